"""`/healthz`: is every component this process depends on reachable?"""
from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import JsonResponse


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _redis_ping(url: str) -> str:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    finally:
        client.close()
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
            checks[name] = f"error: {type(exc).__name__}"
            healthy = False
    checks["status"] = "ok" if healthy else "unavailable"
    return JsonResponse(checks, status=200 if healthy else 503)
