"""`/healthz`: is every component this process depends on reachable?

Cheap enough to be polled hard: the database probe borrows a pooled connection (no new
PostgreSQL backend per call) and the Redis/broker ping goes through one shared client per URL
and is remembered for HEALTH_REDIS_CACHE_SECONDS."""
from __future__ import annotations

import threading
import time

from django.conf import settings
from django.db import connection
from django.http import JsonResponse

_clients: dict[str, object] = {}
_pings: dict[str, tuple[float, str | None]] = {}  # url -> (monotonic time, error or None)
_lock = threading.Lock()


class ProbeFailed(Exception):
    """A failed probe, remembered: `kind` is the original exception's class name."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _client(url: str):
    client = _clients.get(url)
    if client is None:
        import redis

        with _lock:
            client = _clients.get(url)
            if client is None:
                pool = redis.BlockingConnectionPool.from_url(
                    url, max_connections=2, timeout=1, socket_connect_timeout=1, socket_timeout=1
                )
                client = _clients[url] = redis.Redis(connection_pool=pool)
    return client


def _redis_ping(url: str) -> str:
    now = time.monotonic()
    cached = _pings.get(url)
    if cached is None or now - cached[0] >= settings.HEALTH_REDIS_CACHE_SECONDS:
        try:
            _client(url).ping()
            error = None
        except Exception as exc:  # noqa: BLE001 - reported by the caller
            error = type(exc).__name__
        cached = _pings[url] = (time.monotonic(), error)
    if cached[1] is not None:
        raise ProbeFailed(cached[1])
    return "ok"


def _redis() -> str:
    return _redis_ping(settings.REDIS_URL) if settings.REDIS_URL else "embedded"


def _broker() -> str:
    url = settings.CELERY_BROKER_URL
    if settings.CELERY_TASK_ALWAYS_EAGER or url.startswith("memory://"):
        return "eager"
    if url.startswith(("redis://", "rediss://")):
        return _redis_ping(url)
    from servicedesk.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=1)
    return "ok"


def healthz(request):
    checks, healthy = {}, True
    for name, probe in (("database", _database), ("redis", _redis), ("broker", _broker)):
        try:
            checks[name] = probe()
        except Exception as exc:  # noqa: BLE001 - any failure is reported, not raised
            checks[name] = f"error: {getattr(exc, 'kind', type(exc).__name__)}"
            healthy = False
    checks["status"] = "ok" if healthy else "unavailable"
    return JsonResponse(checks, status=200 if healthy else 503)
