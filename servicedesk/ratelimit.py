"""Per-person limits on how often content can be written (posts, comments, likes, tickets...).

Services call `consume(actor=..., action=...)` before they write, so every page, API view and
htmx partial that reaches a service is limited the same way. Counting happens only inside
`enforced()`, which `RateLimitMiddleware` opens around each HTTP request: what people do is
limited, while system work (Celery tasks, management commands, seeding, one service calling
another from a task) never is.

Counters live in the Django cache (Redis outside embedded mode), so a limit holds across every
process, socket and client of the same person. Each limit is a fixed window: at most N writes in
each period; the answer past it is `RateLimited` (HTTP 429, `Retry-After` = seconds until the
window ends).
"""
from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from .errors import ApplicationError

_enforced: ContextVar[bool] = ContextVar("content_rate_limits_enforced", default=False)

_UNITS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}
_RATE_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*$")

ACTION_LABELS = {
    "post": "posting",
    "comment": "commenting",
    "like": "liking",
    "ticket": "logging tickets",
    "follow": "following",
    "live_ticket": "opening live connections",
}


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int


def parse_rate(text: str) -> Rate:
    """`"30/min"`, `"10/10m"`, `"100/h"`: N writes per period. Raises ValueError otherwise."""
    match = _RATE_RE.match(str(text).lower())
    if not match or match.group(3) not in _UNITS:
        raise ValueError(f"Not a rate: {text!r} (write it like 30/min or 10/10m).")
    count, multiple, unit = int(match.group(1)), int(match.group(2) or 1), match.group(3)
    if multiple < 1:
        raise ValueError(f"Not a rate: {text!r}.")
    return Rate(count=count, seconds=multiple * _UNITS[unit])


class RateLimited(ApplicationError):
    """Too many writes of one kind by one person: HTTP 429 with `Retry-After`."""

    status = 429
    code = "rate_limited"

    def __init__(self, action: str, retry_after: int):
        self.action = action
        self.retry_after = max(1, int(retry_after))
        wait = f"{self.retry_after} seconds" if self.retry_after < 120 else f"{math.ceil(self.retry_after / 60)} minutes"
        message = f"You are {ACTION_LABELS.get(action, 'doing that')} too fast. Please wait {wait} and try again."
        super().__init__(message)


@contextmanager
def enforced() -> Iterator[None]:
    """Count and limit writes made inside this block (one HTTP request)."""
    token = _enforced.set(True)
    try:
        yield
    finally:
        _enforced.reset(token)


@contextmanager
def unlimited() -> Iterator[None]:
    """Writes the system makes on someone's behalf inside a request (a security report's
    incident) are not theirs to be limited for."""
    token = _enforced.set(False)
    try:
        yield
    finally:
        _enforced.reset(token)


def rate_for(*, actor, action: str) -> Rate | None:
    """The limit for this person and action: staff get `<action>.staff` where one is set."""
    limits = settings.CONTENT_RATE_LIMITS
    raw = None
    if getattr(actor, "is_agent", False):
        raw = limits.get(f"{action}.staff")
    if raw is None:
        raw = limits.get(action)
    if raw in (None, "", "off"):
        return None
    return parse_rate(raw)


def consume(*, actor, action: str) -> None:
    """Count one `action` by `actor`; raise `RateLimited` once the window's allowance is spent."""
    if not _enforced.get() or actor is None or not getattr(actor, "is_authenticated", False):
        return
    rate = rate_for(actor=actor, action=action)
    if rate is None:
        return
    now = time.time()
    window = int(now // rate.seconds)
    key = f"ratelimit:{action}:{actor.pk}:{rate.seconds}:{window}"
    counter = getattr(cache, "count", None)  # the Redis cache's one-trip counter
    if counter is not None:
        used = counter(key, timeout=rate.seconds + 5)
        if used is None:  # Redis unreachable: writes go on unlimited rather than fail
            return
    else:
        cache.add(key, 0, timeout=rate.seconds + 5)
        try:
            used = cache.incr(key)
        except ValueError:  # expired between add and incr: a new window starts with this write
            cache.set(key, 1, timeout=rate.seconds + 5)
            used = 1
    if used > rate.count:
        raise RateLimited(action, retry_after=math.ceil((window + 1) * rate.seconds - now))


class RateLimitMiddleware:
    """Every HTTP request is a person acting: services limit what it writes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with enforced():
            return self.get_response(request)
