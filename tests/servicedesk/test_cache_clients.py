"""The Redis cache keeps one redis-py client per connection pool instead of building one per operation."""
import threading

from django.conf import settings

from servicedesk.cache import FailSoftRedisCache


def test_operations_share_one_client_and_still_read_what_was_written():
    cache = FailSoftRedisCache(settings.REDIS_URL, {"KEY_PREFIX": "cache-clients-test"})
    cache.set("greeting", {"text": "hello"}, 30)
    assert cache.get("greeting") == {"text": "hello"}
    cache.delete("counter")
    assert cache.add("counter", 1, 30) and cache.incr("counter") == 2
    client = cache._cache.get_client("greeting", write=True)
    assert cache._cache.get_client("other") is client, "one client for the pool, whatever the key"

    seen, errors = [], []

    def work(n):
        try:
            cache.set(f"thread-{n}", n, 30)
            seen.append(cache.get(f"thread-{n}") == n)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and seen == [True] * 8, "shared between threads, each command on its own pooled connection"
    cache.delete_many(["greeting", "counter", *(f"thread-{n}" for n in range(8))])


def test_every_backend_of_the_process_shares_one_pool():
    """Django makes a backend per thread and per async context (every ASGI request and socket):
    they share one pool, so a request does not open a connection to Redis of its own."""
    from django.core.cache import caches

    pools, errors = [], []
    pool = caches["default"]._cache._get_connection_pool(True)
    caches["default"].get("warm")
    before = pool._created_connections

    def use():
        try:
            backend = caches["default"]
            backend.set("shared-pool", 1, 30)
            # The backend itself, kept alive: a freed one's id can come back for the next thread's.
            pools.append((backend, backend._cache._get_connection_pool(True)))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    for _ in range(3):  # one after another: no concurrency that would need more connections
        thread = threading.Thread(target=use)
        thread.start()
        thread.join()
    assert not errors
    assert len({id(backend) for backend, _ in pools}) == 3, "Django's backend per thread"
    assert {id(used) for _, used in pools} == {id(pool)}
    assert pool._created_connections == before, "the pooled connection, reused"
    assert FailSoftRedisCache(settings.REDIS_URL, settings.CACHES["default"])._cache._get_connection_pool(True) is pool
    other = FailSoftRedisCache(settings.REDIS_URL, {"OPTIONS": {"socket_timeout": 7}})
    assert other._cache._get_connection_pool(True) is not pool, "other options, another pool"


def test_requests_in_their_own_async_contexts_reuse_the_pooled_connection():
    """Under uvicorn every connection is a task with a context of its own, and Django's ASGI handler
    runs a request's synchronous code in a thread of its own: a cache backend per request. The
    pooled connection is still the one used."""
    import asyncio
    import contextvars

    from asgiref.sync import ThreadSensitiveContext, async_to_sync, sync_to_async
    from django.core.cache import caches

    pool = caches["default"]._cache._get_connection_pool(True)
    caches["default"].get("warm")
    before = pool._created_connections
    backends, pools = set(), set()

    def view():
        backend = caches["default"]
        backends.add(id(backend))
        pools.add(id(backend._cache._get_connection_pool(True)))
        backend.add("requests-seen", 0, 30)
        backend.incr("requests-seen")

    async def request():
        async with ThreadSensitiveContext():
            await sync_to_async(view)()

    async def requests():
        for _ in range(10):
            await asyncio.create_task(request(), context=contextvars.Context())

    async_to_sync(requests)()
    assert len(backends) > 1, "each request context its own backend, as under uvicorn"
    assert pools == {id(pool)}
    assert pool._created_connections == before, "no new connection to Redis per request"
    caches["default"].delete("requests-seen")


def test_a_counter_counts_in_one_round_trip_and_keeps_its_first_expiry():
    from django.core.cache import cache

    cache.delete("counted")
    assert [cache.count("counted", timeout=60) for _ in range(3)] == [1, 2, 3]
    client = cache._cache.get_client(write=True)
    key = cache.make_and_validate_key("counted")
    assert 0 < client.ttl(key) <= 60
    client.expire(key, 30)
    assert cache.count("counted", timeout=60) == 4 and client.ttl(key) <= 30, "later counts keep the window's end"
    assert cache.get("counted") == 4
    cache.delete("counted")


def test_a_counter_without_redis_answers_none_and_the_rate_limit_lets_the_write_through(db, make_user, monkeypatch):
    from servicedesk import ratelimit

    gone = FailSoftRedisCache("redis://127.0.0.1:1/0", {"OPTIONS": {"socket_connect_timeout": 0.2}})
    assert gone.count("counted", timeout=60) is None
    monkeypatch.setattr(ratelimit, "cache", gone)
    person = make_user("unlimited")
    with ratelimit.enforced():
        for _ in range(ratelimit.rate_for(actor=person, action="post").count + 1):
            ratelimit.consume(actor=person, action="post")


def test_a_rate_limited_action_costs_one_redis_round_trip(db, make_user, monkeypatch):
    from django.core.cache import cache
    from redis.client import Pipeline, Redis

    from servicedesk import ratelimit

    calls = []
    monkeypatch.setattr(Redis, "execute_command", lambda self, *a, **k: calls.append(a[0]))
    monkeypatch.setattr(Pipeline, "execute", lambda self, *a, **k: calls.append("pipeline") or [1, True])
    with ratelimit.enforced():
        ratelimit.consume(actor=make_user("counted"), action="comment")
    assert calls == ["pipeline"]
    cache.clear()
