"""Overload: a saturated database pool answers 503 with Retry-After and recovers by itself;
the channel layer's Redis pool makes bursts wait instead of failing; /healthz is cheap."""
from __future__ import annotations

import asyncio
import threading

import pytest
from django.conf import settings as django_settings
from django.db import OperationalError, connection, connections
from django.test import Client, RequestFactory

from servicedesk import health
from servicedesk.overload import OverloadMiddleware, is_overload


@pytest.fixture
def tiny_pool(monkeypatch):
    """Shrink this process's pool to one connection with a short wait, restore it afterwards."""
    options = connections.settings["default"]["OPTIONS"]
    assert options.get("pool"), "tests run with the PostgreSQL pool on"
    connection.close()
    connection.close_pool()
    monkeypatch.setitem(options, "pool", {"min_size": 1, "max_size": 1, "timeout": 0.5})
    yield
    connection.close()
    connection.close_pool()


class HeldConnection:
    """Holds the pool's only connection in another thread until released."""

    def __init__(self):
        self.taken, self.release = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        try:
            connection.ensure_connection()
            self.taken.set()
            self.release.wait(30)
        finally:
            connection.close()

    def __enter__(self):
        self.thread.start()
        assert self.taken.wait(10), "the helper thread could not get a connection"
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.thread.join(10)


@pytest.mark.django_db(transaction=True)
def test_saturated_pool_answers_503_with_retry_after_then_recovers(tiny_pool, make_user):
    user = make_user("pooled")
    client = Client(raise_request_exception=False)
    client.force_login(user)
    connection.close()  # back to the pool: the requests below borrow it like any other

    with HeldConnection():
        api = client.get("/api/v1/me/")
        page = client.get("/notifications/")
        health_response = client.get("/healthz")

    assert api.status_code == 503
    assert int(api["Retry-After"]) >= 1
    assert api.json()["message"] and set(api.json()) <= {"message", "errors", "retry_after"}
    assert page.status_code == 503
    assert int(page["Retry-After"]) >= 1
    assert page["Content-Type"].startswith("text/html")
    assert b"busy" in page.content
    assert health_response.status_code == 503
    assert health_response.json()["database"].startswith("error")

    # The connection is free again: the same requests are served without any restart.
    assert client.get("/api/v1/me/").status_code == 200
    assert client.get("/notifications/").status_code == 200
    assert client.get("/healthz").status_code == 200


def test_postgres_refusing_clients_is_overload_and_other_errors_are_not():
    request = RequestFactory().get("/api/v1/feed/")
    middleware = OverloadMiddleware(lambda r: None)
    refused = OperationalError("connection failed: FATAL:  sorry, too many clients already")
    response = middleware.process_exception(request, refused)
    assert response.status_code == 503 and response["Retry-After"]
    assert is_overload(refused)
    assert not is_overload(OperationalError("server closed the connection unexpectedly"))
    assert not is_overload(ValueError("too many clients"))
    assert middleware.process_exception(request, ValueError("boom")) is None


def test_database_settings_pool_and_never_keep_connections():
    database = django_settings.DATABASES["default"]
    pool = database["OPTIONS"]["pool"]
    assert pool["max_size"] >= pool["min_size"] >= 1 and pool["timeout"] > 0
    assert database["CONN_MAX_AGE"] == 0


@pytest.mark.django_db
def test_healthz_reuses_pooled_connections_and_remembers_the_redis_ping(client, monkeypatch):
    health._pings.clear()
    pings = []
    real_client = health._client

    def counting_client(url):
        pings.append(url)
        return real_client(url)

    monkeypatch.setattr(health, "_client", counting_client)
    before = connection.pool.get_stats().get("connections_num", 0)
    for _ in range(10):
        assert client.get("/healthz").status_code == 200
    after = connection.pool.get_stats().get("connections_num", 0)
    assert after - before <= 1  # at most one new PostgreSQL connection, not one per call
    assert len(pings) == 1  # one Redis ping for ten checks within a second


def test_redis_disconnect_burst_waits_for_the_bounded_pool_instead_of_failing(settings):
    """1,000 sockets dropping at once: every group_discard succeeds through a pool of 10."""
    from channels.layers import get_channel_layer

    host = dict(settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0])
    host.update(max_connections=10, pool_timeout=20)
    config = {**settings.CHANNEL_LAYERS["default"]["CONFIG"], "hosts": [host], "prefix": f"{settings.CHANNEL_PREFIX}burst"}
    settings.CHANNEL_LAYERS = {"burst": {**settings.CHANNEL_LAYERS["default"], "CONFIG": config}}
    from channels.layers import channel_layers

    channel_layers.backends.pop("burst", None)
    layer = get_channel_layer("burst")

    async def run():
        channels = [f"burst.{i}" for i in range(1000)]
        await asyncio.gather(*(layer.group_add("incident", name) for name in channels))
        await asyncio.gather(*(layer.group_discard("incident", name) for name in channels))
        pool = layer._layers[asyncio.get_running_loop()].get_connection(0).connection_pool
        used = len(pool._in_use_connections) + len(pool._available_connections)
        left = await layer._layers[asyncio.get_running_loop()].get_connection(0).zcard(layer._group_key("incident"))
        await layer.flush()
        return used, left

    used, left = asyncio.run(run())
    assert used <= 10
    assert left == 0


def test_production_settings_pool_connections_sized_from_the_environment():
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_POOL", "DJANGO_", "CONN_MAX_AGE"))} | {
        "DJANGO_SETTINGS_MODULE": "servicedesk.settings.production",
        "SECRET_KEY": "x7!c9$k2#p0@v5^m8&n1*q4(w6)e3_r-t+y=u]i[o}p{a|s;d:f'g,h.j<k>l?z",
        "ALLOWED_HOSTS": "desk.example.com",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/servicedesk",
        "REDIS_URL": "redis://127.0.0.1:6379/15",
        "DB_POOL_MIN": "3", "DB_POOL_MAX": "7", "DB_POOL_TIMEOUT": "2.5", "CONN_MAX_AGE": "60",
        "REDIS_MAX_CONNECTIONS": "33",
    }
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "d = s.DATABASES['default']; h = s.CHANNEL_LAYERS['default']['CONFIG']['hosts'][0]; "
        "print(json.dumps([d['OPTIONS']['pool'], d['CONN_MAX_AGE'], h['max_connections'], "
        "s.CHANNEL_LAYERS['default']['BACKEND']]))"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    pool, max_age, redis_max, backend = json.loads(result.stdout.strip().splitlines()[-1])
    assert pool == {"min_size": 3, "max_size": 7, "timeout": 2.5}
    assert max_age == 0  # forced: Django refuses persistent connections with a pool
    assert redis_max == 33 and backend == "servicedesk.channel_layer.PooledRedisChannelLayer"
