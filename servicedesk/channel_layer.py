"""The Redis channel layer with a bounded, blocking connection pool.

channels_redis builds a plain redis-py pool per event loop, which raises MaxConnectionsError once
100 connections are in use: a burst of disconnects (1,000 `group_discard`s at once) failed most of
them and left dead channels in their groups. Here each pool holds at most `max_connections`
(REDIS_MAX_CONNECTIONS per process and event loop) and a caller that finds none free waits up to
`pool_timeout` seconds (REDIS_POOL_TIMEOUT) for one instead of failing."""
from __future__ import annotations

from channels_redis.core import RedisChannelLayer
from redis import asyncio as aioredis


class PooledRedisChannelLayer(RedisChannelLayer):
    def create_pool(self, index):
        host = dict(self.hosts[index])
        if "address" not in host:
            return super().create_pool(index)
        address = host.pop("address")
        host.setdefault("max_connections", 50)
        host["timeout"] = host.pop("pool_timeout", 10.0)
        return aioredis.BlockingConnectionPool.from_url(address, **host)
