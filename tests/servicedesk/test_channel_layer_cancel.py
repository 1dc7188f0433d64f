"""A cancelled receive on the Redis channel layer ends, even when a cancellation is dropped on the way."""
from __future__ import annotations

import asyncio

import pytest
from channels_redis.core import RedisChannelLayer

from servicedesk.channel_layer import PooledRedisChannelLayer


def _layer() -> PooledRedisChannelLayer:
    return PooledRedisChannelLayer(hosts=[{"address": "redis://127.0.0.1:6379/0"}], prefix="cancel-test")


def _swallowing_once(state: dict):
    """A receive that ignores its first cancellation and carries on waiting, as channels_redis's
    does when Python 3.11's `asyncio.wait_for` (redis-py's send) drops the cancellation."""

    async def receive(self, channel):
        state["started"] += 1
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            state["swallowed"] += 1
        try:
            await asyncio.sleep(3600)
        finally:
            state["ended"] = True

    return receive


def test_a_cancelled_receive_ends_even_if_the_first_cancellation_is_swallowed(monkeypatch):
    state = {"started": 0, "swallowed": 0, "ended": False}
    monkeypatch.setattr(RedisChannelLayer, "receive", _swallowing_once(state))
    layer = _layer()

    async def scenario():
        consumer = asyncio.ensure_future(layer.receive("specific.x!y"))
        await asyncio.sleep(0.05)
        consumer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(consumer, 3)

    asyncio.run(scenario())
    assert state == {"started": 1, "swallowed": 1, "ended": True}


def test_a_message_still_arrives_through_the_guarded_receive(settings):
    if "address" not in str(settings.CHANNEL_LAYERS["default"]["CONFIG"]):
        pytest.fail("the suite runs on the Redis channel layer")
    config = {**settings.CHANNEL_LAYERS["default"]["CONFIG"], "prefix": f"{settings.CHANNEL_PREFIX}cancel"}
    layer = PooledRedisChannelLayer(**config)

    async def scenario():
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "hello"})
        assert await asyncio.wait_for(layer.receive(channel), 5) == {"type": "hello"}
        waiting = asyncio.ensure_future(layer.receive(channel))
        await asyncio.sleep(0.2)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(waiting, 5)
        # The receive section closed behind it: another event loop may receive on this layer now.
        assert layer.receive_count == 0

    asyncio.run(scenario())
