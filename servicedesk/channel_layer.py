"""The Redis channel layer with a bounded, blocking connection pool.

channels_redis builds a plain redis-py pool per event loop, which raises MaxConnectionsError once
100 connections are in use: a burst of disconnects (1,000 `group_discard`s at once) failed most of
them and left dead channels in their groups. Here each pool holds at most `max_connections`
(REDIS_MAX_CONNECTIONS per process and event loop) and a caller that finds none free waits up to
`pool_timeout` seconds (REDIS_POOL_TIMEOUT) for one instead of failing.

A cancelled receive also ends for sure (see `_brpop_with_clean`)."""
from __future__ import annotations

import asyncio
import json
import logging
import time

from channels_redis.core import RedisChannelLayer
from redis import asyncio as aioredis

logger = logging.getLogger(__name__)


class PooledRedisChannelLayer(RedisChannelLayer):
    def create_pool(self, index):
        host = dict(self.hosts[index])
        if "address" not in host:
            return super().create_pool(index)
        address = host.pop("address")
        host.setdefault("max_connections", 50)
        host["timeout"] = host.pop("pool_timeout", 10.0)
        return aioredis.BlockingConnectionPool.from_url(address, **host)

    async def _brpop_with_clean(self, index, channel, timeout):
        """channels_redis's blocking pop, which first ends a receive whose cancellation was dropped.

        A socket's consumer cancels its receive when the socket ends. With a socket timeout set,
        redis-py sends each command under `asyncio.wait_for`, which on Python 3.11 returns the
        result and drops a cancellation that arrives just as the send completes (fixed in 3.12).
        The receive then popped on forever, keeping channels_redis's receive section open on that
        event loop: the consumer's task never ended, and a test's event loop never finished. The
        task still counts the cancellation it was asked for, so the next pop (within one pop's
        timeout) ends it instead. No cost on the way of a message: a look at the task per pop.
        """
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise asyncio.CancelledError
        return await super()._brpop_with_clean(index, channel, timeout)

    async def group_send_batch(self, messages: list[tuple[str, dict]]) -> None:
        """Send each (group, message), in order per group, in two round trips per Redis server
        instead of three per group: one pipeline reads every group's members, one script queues
        the messages. A message sent to many groups at once (the same activity pushed to each
        follower's own group) is queued once per receiving process, as a group message is.
        """
        groups = list(dict.fromkeys(group for group, _ in messages))
        for group in groups:
            assert self.require_valid_group_name(group), "Group name not valid"
        members: dict[str, list[str]] = {}
        by_connection: dict[int, list[str]] = {}
        for group in groups:
            by_connection.setdefault(self.consistent_hash(group), []).append(group)
        oldest = int(time.time()) - self.group_expiry
        for index, wanted in by_connection.items():
            pipe = self.connection(index).pipeline(transaction=False)
            for group in wanted:
                key = self._group_key(group)
                pipe.zremrangebyscore(key, min=0, max=oldest)
                pipe.zrange(key, 0, -1)
            replies = await pipe.execute()
            for group, names in zip(wanted, replies[1::2]):
                members[group] = [name.decode("utf8") for name in names]

        # Rounds keep each group's own order: the k-th message of every group goes in round k.
        rounds: list[list[tuple[str, dict]]] = []
        seen: dict[str, int] = {}
        for group, message in messages:
            number = seen.get(group, 0)
            seen[group] = number + 1
            if number == len(rounds):
                rounds.append([])
            rounds[number].append((group, message))
        # Per connection: redis keys, serialized messages and capacities, in queueing order.
        queued: dict[int, tuple[list[str], list[bytes], list[int]]] = {}
        for round_ in rounds:
            alike: dict[str, tuple[dict, list[str]]] = {}
            for group, message in round_:
                shape = json.dumps(message, sort_keys=True, default=str)
                alike.setdefault(shape, (message, []))[1].extend(members[group])
            for message, channels in alike.values():
                if not channels:
                    continue
                to_connection, to_message, to_capacity = self._map_channel_keys_to_connection(
                    list(dict.fromkeys(channels)), message
                )
                for index, keys in to_connection.items():
                    keys_, payloads, capacities = queued.setdefault(index, ([], [], []))
                    for key in keys:
                        keys_.append(key)
                        payloads.append(to_message[key])
                        capacities.append(to_capacity[key])
        for index, (keys, payloads, capacities) in queued.items():
            # Scores rise by a microsecond per message so a receiver pops them in queueing order.
            over = await self.connection(index).eval(
                _BATCH_SEND_LUA, len(keys), *keys, *payloads, *capacities, time.time(), self.expiry
            )
            if over:
                logger.info("%s of %s messages over capacity in a batched group send", over, len(keys))


_BATCH_SEND_LUA = """
local over_capacity = 0
local current_time = tonumber(ARGV[#ARGV - 1])
local expiry = ARGV[#ARGV]
for i=1,#KEYS do
    if redis.call('ZCOUNT', KEYS[i], '-inf', '+inf') < tonumber(ARGV[i + #KEYS]) then
        redis.call('ZADD', KEYS[i], current_time + i / 1000000, ARGV[i])
        redis.call('EXPIRE', KEYS[i], expiry)
    else
        over_capacity = over_capacity + 1
    end
end
return over_capacity
"""
