"""Batched group sends on the Redis channel layer: what each member receives, and in what order."""
from __future__ import annotations

import asyncio

import pytest


@pytest.fixture
def layer(settings):
    from channels.layers import channel_layers, get_channel_layer

    config = {**settings.CHANNEL_LAYERS["default"]["CONFIG"], "prefix": f"{settings.CHANNEL_PREFIX}batch"}
    settings.CHANNEL_LAYERS = {"batch": {**settings.CHANNEL_LAYERS["default"], "CONFIG": config}}
    channel_layers.backends.pop("batch", None)
    layer = get_channel_layer("batch")
    if not hasattr(layer, "group_send_batch"):
        pytest.skip("the Redis channel layer is not configured")
    yield layer
    channel_layers.backends.pop("batch", None)


def test_batch_reaches_every_member_once_in_each_groups_order(layer):
    async def run():
        alice = [await layer.new_channel() for _ in range(2)]  # two sockets of one person
        bob = await layer.new_channel()
        remote = "elsewhere.specific.x!bob2"  # a socket of another process
        for name in alice:
            await layer.group_add("user.1", name)
        await layer.group_add("user.2", bob)
        await layer.group_add("user.2", remote)
        shared = {"type": "live.activity", "activity": {"id": 7}}
        await layer.group_send_batch([
            ("user.1", shared), ("user.2", dict(shared)),
            ("user.1", {"type": "live.notification", "id": 1}), ("user.1", {"type": "live.unread", "count": 1}),
            ("user.3", shared),  # nobody listens: nothing queued
        ])
        got = {name: [await asyncio.wait_for(layer.receive(name), 2) for _ in range(3)] for name in alice}
        got[bob] = [await asyncio.wait_for(layer.receive(bob), 2)]
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(layer.receive(bob), 0.3)  # bob got his one message, no more
        # The shared activity is one queued message for this process, one for the other.
        local_key = layer.prefix + layer.non_local_name(bob)
        remote_key = layer.prefix + layer.non_local_name(remote)
        remote_queued = await layer.connection(0).zcard(remote_key)
        left_here = await layer.connection(0).zcard(local_key)
        await layer.flush()
        return alice, bob, got, remote_queued, left_here

    alice, bob, got, remote_queued, left_here = asyncio.run(run())
    for name in alice:
        assert [m["type"] for m in got[name]] == ["live.activity", "live.notification", "live.unread"]
        assert got[name][0]["activity"] == {"id": 7}
    assert got[bob] == [{"type": "live.activity", "activity": {"id": 7}}]
    assert remote_queued == 1
    assert left_here == 0


def test_batch_skips_members_whose_membership_expired(layer):
    async def run():
        fresh, stale = await layer.new_channel(), await layer.new_channel()
        await layer.group_add("user.9", fresh)
        await layer.group_add("user.9", stale)
        # As if `stale` last renewed its membership longer ago than the group expiry.
        await layer.connection(0).zadd(layer._group_key("user.9"), {stale: 1})
        await layer.group_send_batch([("user.9", {"type": "live.event", "event": "x"})])
        first = await asyncio.wait_for(layer.receive(fresh), 2)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(layer.receive(stale), 0.3)
        members = await layer.connection(0).zrange(layer._group_key("user.9"), 0, -1)
        await layer.flush()
        return first, [m.decode() for m in members], fresh

    first, members, fresh = asyncio.run(run())
    assert first == {"type": "live.event", "event": "x"}
    assert members == [fresh]
