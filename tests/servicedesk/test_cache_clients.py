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
