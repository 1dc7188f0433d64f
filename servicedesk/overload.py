"""Overload answers 503 with Retry-After, never a 500.

When every pooled PostgreSQL connection is busy for longer than DB_POOL_TIMEOUT (psycopg_pool's
PoolTimeout / TooManyRequests), or PostgreSQL itself refuses a connection ("too many clients"),
the request was not wrong and nothing broke: the server is saturated for a moment. The caller is
told so (503, `Retry-After`, API.md's error body under /api/, a plain page elsewhere) and the
next request, once a connection is free again, is served as usual.

Three places route such an error here: `OverloadMiddleware.process_exception` (views),
the DRF exception handler (API views) and the 500 handler (anything raised in a middleware).
"""
from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.template import loader

logger = logging.getLogger("servicedesk.overload")

OVERLOAD_MESSAGE = "The service is busy. Please try again in a moment."
# What PostgreSQL says when its connection slots are full.
_REFUSALS = ("too many clients", "remaining connection slots are reserved", "too many connections")


def _pool_errors() -> tuple[type[BaseException], ...]:
    try:
        from psycopg_pool import PoolTimeout, TooManyRequests
    except ImportError:  # pragma: no cover - the pool is part of requirements.txt
        return ()
    return (PoolTimeout, TooManyRequests)


def is_overload(exc: BaseException | None) -> bool:
    """Is `exc` (or what it wraps: Django re-raises driver errors as its own) a saturated pool
    or a PostgreSQL refusing more clients?"""
    pool_errors = _pool_errors()
    seen = 0
    while exc is not None and seen < 10:
        if pool_errors and isinstance(exc, pool_errors):
            return True
        if type(exc).__name__ == "OperationalError" and any(text in str(exc).lower() for text in _REFUSALS):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def retry_after() -> int:
    return max(1, int(getattr(settings, "OVERLOAD_RETRY_AFTER_SECONDS", 2)))


def overload_response(request) -> HttpResponse:
    seconds = retry_after()
    if request.path.startswith("/api/"):
        response = JsonResponse({"message": OVERLOAD_MESSAGE, "retry_after": seconds}, status=503)
    else:
        # Rendered without the request: context processors would need the database.
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
    response["Retry-After"] = str(seconds)
    response["Cache-Control"] = "no-store"
    logger.warning("Overloaded: %s %s answered 503", request.method, request.path)
    return response


class OverloadMiddleware:
    """A view that could not get a database connection answers 503 (see the module doc)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if is_overload(exception):
            return overload_response(request)
        return None
