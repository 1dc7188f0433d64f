"""A cancelled receive on the Redis channel layer ends, even when a cancellation is dropped on the way
(Python 3.11's `asyncio.wait_for`, under redis-py's send, returns the result instead of raising)."""
from __future__ import annotations

import asyncio
import time

import pytest

from servicedesk.channel_layer import PooledRedisChannelLayer


@pytest.fixture
def layer(settings):
    config = {**settings.CHANNEL_LAYERS["default"]["CONFIG"], "prefix": f"{settings.CHANNEL_PREFIX}cancel"}
    if "hosts" not in config:
        pytest.fail("the suite runs on the Redis channel layer")
    return PooledRedisChannelLayer(**config)


def test_a_pop_after_a_dropped_cancellation_ends_the_receive_at_once(layer):
    async def scenario():
        channel = await layer.new_channel()
        key = layer.prefix + layer.non_local_name(channel)
        entered = asyncio.Event()

        async def receive_that_drops_its_cancellation():
            entered.set()
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                pass  # what 3.11's wait_for does when the awaited send completes at that moment
            return await layer._brpop_with_clean(0, key, timeout=2)  # the receive pops on

        task = asyncio.ensure_future(receive_that_drops_its_cancellation())
        await entered.wait()
        task.cancel()
        started = time.monotonic()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)
        assert time.monotonic() - started < 1, "ended before the pop, not after its 2 s"

    asyncio.run(scenario())


def test_a_pop_without_a_cancellation_still_receives(layer):
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
