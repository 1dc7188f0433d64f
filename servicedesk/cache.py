"""A Redis cache that degrades instead of failing the request when Redis is unreachable.

The cache only holds things that can be recomputed or forgotten (throttle counters, memoised
reads), so while Redis is down a read is a miss and a write is dropped; the failure is logged
once per burst rather than turning every page and API call into a 500.
"""
from __future__ import annotations

import logging
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

_ERRORS = (RedisError, OSError)
_LOG_EVERY_SECONDS = 10.0


class ReusedClients(RedisCacheClient):
    """Connection pools and clients shared by the whole process.

    Django keeps a cache backend per thread and per async context, and its client a connection pool
    per backend: under ASGI every request and every websocket handshake got a backend of its own,
    so a new pool and a new TCP connection to Redis (with redis-py's driver-version lookup) for a
    single GET. Keyed by server and options, one pool serves every backend of the process (redis-py
    pools are thread-safe and start afresh in a forked child). Django also builds a `redis.Redis`
    object for every operation, each setting up ~170 response callbacks: one per pool is enough.
    """

    def _get_connection_pool(self, write):
        index = self._get_connection_pool_index(write)
        key = (self._servers[index], self._pool_class, repr(sorted(self._pool_options.items())))
        pool = _shared_pools.get(key)
        if pool is None:
            with _shared_lock:
                pool = _shared_pools.get(key)
                if pool is None:
                    pool = _shared_pools[key] = self._pool_class.from_url(self._servers[index], **self._pool_options)
        return pool

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = _shared_clients.get(id(pool))
        if client is None:
            with _shared_lock:
                client = _shared_clients.setdefault(id(pool), self._client(connection_pool=pool))
        return client


_shared_pools: dict[tuple, object] = {}
_shared_clients: dict[int, object] = {}
_shared_lock = threading.Lock()


class FailSoftRedisCache(RedisCache):
    _last_logged = 0.0

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClients

    def _failed(self, operation: str) -> None:
        now = time.monotonic()
        if now - FailSoftRedisCache._last_logged >= _LOG_EVERY_SECONDS:
            FailSoftRedisCache._last_logged = now
            logger.warning("cache %s failed; Redis unreachable, carrying on without the cache", operation, exc_info=True)

    def _soft(self, operation: str, default, call, *args, **kwargs):
        try:
            return call(*args, **kwargs)
        except _ERRORS:
            self._failed(operation)
            return default

    def get(self, key, default=None, version=None):
        return self._soft("get", default, super().get, key, default, version)

    def get_many(self, keys, version=None):
        return self._soft("get_many", {}, super().get_many, keys, version)

    def has_key(self, key, version=None):
        return self._soft("has_key", False, super().has_key, key, version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._soft("add", False, super().add, key, value, timeout, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._soft("set", None, super().set, key, value, timeout, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._soft("set_many", list(data), super().set_many, data, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._soft("touch", False, super().touch, key, timeout, version)

    def delete(self, key, version=None):
        return self._soft("delete", False, super().delete, key, version)

    def delete_many(self, keys, version=None):
        return self._soft("delete_many", None, super().delete_many, keys, version)

    def count(self, key, *, timeout: int, version=None) -> int | None:
        """Add one to a counter that lives `timeout` seconds from its first count, in one round trip
        (INCR and EXPIRE NX in one MULTI); Django's add-then-incr took three. None when Redis is
        unreachable."""
        key = self.make_and_validate_key(key, version=version)
        try:
            with self._cache.get_client(key, write=True).pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, int(timeout), nx=True)
                used, _ = pipe.execute()
        except _ERRORS:
            self._failed("count")
            return None
        return int(used)

    def incr(self, key, delta=1, version=None):
        try:
            return super().incr(key, delta, version)
        except _ERRORS:
            # Like a missing key: callers of incr already handle ValueError.
            self._failed("incr")
            raise ValueError(f"Key '{key}' not found (cache unavailable).") from None

    def clear(self):
        return self._soft("clear", False, super().clear)
