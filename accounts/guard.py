"""The sign-in guard: may this request try a password now?

One decision for the sign-in page and the token endpoint, made from the sign-in history
(`LoginRecord`) before the password is checked:

- **By account.** `SIGNIN_FAILURE_LIMIT` wrong passwords for one username, from any address and
  any browser, lock it for `SIGNIN_COOLOFF`; every further failure after the lock doubles the
  wait (up to `SIGNIN_MAX_COOLOFF`). Counting starts again after a sign-in from a new device
  (one that is not remembered) or after `SIGNIN_FAILURE_WINDOW` without failures.
- **By address.** `SIGNIN_IP_FAILURE_LIMIT` wrong passwords from one client address (whatever
  the usernames and browsers) within `SIGNIN_IP_WINDOW` refuse further tries from it until the
  oldest of them ages out. The address is `servicedesk.net.client_ip` (`PROXY_COUNT`).
- **The owner's remembered device** (a signed cookie set when the account signed in on it) is
  not held back by what anonymous callers did: only its own failures for that account count,
  with the same limit and progressive waits. So nobody can lock the owner out of their usual
  device, and the device cookie gives no extra guesses to anyone else.

Refused attempts are not recorded and never reach the password check. On PostgreSQL the check,
the password check and the record happen under transaction-scoped advisory locks on the username
and on the address (`attempt_serialize`), so parallel requests cannot all pass the check before
any of their failures is counted.
"""
from __future__ import annotations

import hashlib
import json
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import connection
from django.db.models import Count, Max
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from servicedesk.net import client_ip

from .models import LoginRecord, User

DEVICE_SALT = "accounts.guard.device"
DEVICE_MAX_ACCOUNTS = 5


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # seconds until a try is accepted again
    device: str = ""  # the remembered device of this account the request comes from, if any


def normalized_username(raw: str | None) -> str:
    """The username as the sign-in form authenticates it (NFKC, trimmed), so variants count as one."""
    return unicodedata.normalize("NFKC", (raw or "").replace("\x00", "")).strip()[:150]


def account_for(username: str) -> User | None:
    return User.objects.filter(username__iexact=username).first() if username else None


# --- The remembered device -------------------------------------------------------------------


def _device_cookie(request: HttpRequest) -> dict | None:
    try:
        raw = request.get_signed_cookie(
            settings.SIGNIN_DEVICE_COOKIE, default=None, salt=DEVICE_SALT, max_age=settings.SIGNIN_DEVICE_MAX_AGE
        )
        value = json.loads(raw) if raw else None
    except (ValueError, TypeError, signing.BadSignature):
        return None
    if not isinstance(value, dict) or not isinstance(value.get("d"), str) or not isinstance(value.get("u"), list):
        return None
    return value


def device_of(request: HttpRequest, user: User | None) -> str:
    """The device id if this request carries the remembered-device cookie of `user`'s account."""
    value = _device_cookie(request)
    if user is None or value is None or user.pk not in value["u"]:
        return ""
    return value["d"][:64]


def device_remember(request: HttpRequest, response: HttpResponse, user: User) -> None:
    """After a successful sign-in: this browser is now one of the account's usual devices."""
    value = _device_cookie(request) or {"d": secrets.token_urlsafe(24), "u": []}
    accounts = [pk for pk in value["u"] if pk != user.pk][-(DEVICE_MAX_ACCOUNTS - 1):] + [user.pk]
    response.set_signed_cookie(
        settings.SIGNIN_DEVICE_COOKIE,
        json.dumps({"d": value["d"], "u": accounts}, separators=(",", ":")),
        salt=DEVICE_SALT,
        max_age=settings.SIGNIN_DEVICE_MAX_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


# --- Counting -------------------------------------------------------------------------------


def _progressive_wait(failures: int, last_failure: datetime | None, now: datetime) -> int:
    limit = settings.SIGNIN_FAILURE_LIMIT
    if failures < limit or last_failure is None:
        return 0
    wait = min(settings.SIGNIN_COOLOFF * (2 ** min(failures - limit, 30)), settings.SIGNIN_MAX_COOLOFF)
    return max(0, int((last_failure + wait - now).total_seconds() + 0.999))


def _failures_since_reset(attempts, now: datetime) -> tuple[int, datetime | None]:
    attempts = attempts.filter(at__gte=now - settings.SIGNIN_FAILURE_WINDOW)
    last_success = attempts.filter(success=True).aggregate(at=Max("at"))["at"]
    failures = attempts.filter(success=False)
    if last_success is not None:
        failures = failures.filter(at__gt=last_success)
    row = failures.aggregate(n=Count("id"), last=Max("at"))
    return row["n"], row["last"]


def account_failures(username: str, now: datetime | None = None) -> tuple[int, datetime | None]:
    """Wrong passwords for this username from devices that are not remembered, since the last reset."""
    now = now or timezone.now()
    return _failures_since_reset(LoginRecord.objects.filter(username__iexact=username, device=""), now)


def _address_wait(ip: str | None, now: datetime) -> int:
    if not ip:
        return 0
    window = settings.SIGNIN_IP_WINDOW
    recent = (
        LoginRecord.objects.filter(ip=ip, success=False, device="", at__gte=now - window)
        .order_by("-at")
        .values_list("at", flat=True)
    )
    nth = list(recent[settings.SIGNIN_IP_FAILURE_LIMIT - 1 : settings.SIGNIN_IP_FAILURE_LIMIT])
    if not nth:
        return 0
    return max(0, int((nth[0] + window - now).total_seconds() + 0.999))


def signin_verdict(*, request: HttpRequest, username: str) -> Verdict:
    """Whether this request may try a password for `username` now (before it is checked)."""
    now = timezone.now()
    name = normalized_username(username)
    device = device_of(request, account_for(name))
    if device:
        n, last = _failures_since_reset(LoginRecord.objects.filter(username__iexact=name, device=device), now)
        wait = _progressive_wait(n, last, now)
        return Verdict(allowed=wait == 0, retry_after=wait, device=device)
    wait = max(_progressive_wait(*account_failures(name, now), now), _address_wait(client_ip(request), now))
    return Verdict(allowed=wait == 0, retry_after=wait)


def _lock_key(kind: str, value: str) -> int:
    digest = hashlib.blake2b(f"signin:{kind}:{value}".encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def attempt_serialize(*, request: HttpRequest, username: str) -> None:
    """Hold sign-in attempts for this username, and from this address, one at a time until the
    surrounding transaction ends. Call inside `transaction.atomic()`, before `signin_verdict`."""
    if connection.vendor != "postgresql":
        return  # the embedded SQLite mode serves one process and SQLite serialises writers anyway
    if not connection.in_atomic_block:
        raise RuntimeError("attempt_serialize needs a transaction.")
    keys = [_lock_key("user", normalized_username(username).casefold())]
    ip = client_ip(request)
    if ip:
        keys.append(_lock_key("ip", ip))
    with connection.cursor() as cursor:
        for key in keys:  # always username first, then address: no two attempts wait on each other in a cycle
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
