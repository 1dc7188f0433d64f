"""An activity for many people reaches their sockets as one message to every server process, which
hands it to the sockets it holds for them (in process, over the real Redis channel layer)."""
import asyncio

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer

from accounts import services as accounts
from feeds import live, live_broadcast
from feeds import services as feeds
from feeds.audience import SIGNED_IN, Audience
from feeds.services import ObjectRef
from tests.feeds.test_live_reauthorization import WAIT, open_socket

pytestmark = pytest.mark.django_db(transaction=True)


async def process_channels() -> list[str]:
    layer = get_channel_layer()
    if hasattr(layer, "_group_key"):
        names = await layer.connection(0).zrange(layer._group_key(live_broadcast.PROCESS_GROUP), 0, -1)
        return [name.decode() for name in names]
    return list(layer.groups.get(live_broadcast.PROCESS_GROUP, {}))


def test_many_addressed_people_get_one_message_and_only_they_hear_it(make_user, dave, settings, monkeypatch):
    settings.FANOUT_INLINE_MAX = 3
    people = [make_user(f"reader{n}") for n in range(6)]
    outsider, leaver = make_user("outsider"), people[-1]

    sent = []
    real_send_many = live.send_many
    monkeypatch.setattr(live, "send_many", lambda messages: (sent.append(list(messages)), real_send_many(messages)))

    async def scenario():
        sockets = {person.username: await open_socket(person) for person in people}
        sockets["outsider"] = await open_socket(outsider)
        # A second tab of the same person hears it too.
        sockets["reader0, second tab"] = await open_socket(people[0])
        activity = await sync_to_async(feeds.activity_publish)(
            actor=None, verb="posted", summary="Maintenance tonight", obj=ObjectRef("user", "dave", "Dave"),
            audience=Audience.of(users=[p.pk for p in people]),
        )
        for name, comm in sockets.items():
            if name == "outsider":
                assert await comm.receive_nothing(timeout=0.5), "not addressed: not told"
                continue
            frame = await comm.receive_json_from(timeout=WAIT)
            assert frame["type"] == "activity" and frame["activity"]["id"] == activity.pk, name

        # Deactivated since: the broadcast names them, their socket checks the account and closes.
        await sync_to_async(accounts.user_deactivate)(actor=dave, user=leaver)
        assert (await sockets[leaver.username].receive_output(timeout=WAIT))["type"] == "websocket.close"
        second = await sync_to_async(feeds.activity_publish)(
            actor=None, verb="posted", summary="Done", obj=ObjectRef("user", "dave", "Dave"),
            audience=Audience.of(users=[p.pk for p in people], groups=[SIGNED_IN]),
        )
        for person in people[:-1]:
            frame = await sockets[person.username].receive_json_from(timeout=WAIT)
            assert frame["activity"]["id"] == second.pk
        for comm in sockets.values():
            await comm.disconnect()

    async_to_sync(scenario)()
    broadcasts = [m for batch in sent for group, m in batch if group == live_broadcast.PROCESS_GROUP]
    assert len(broadcasts) == 2, "one message per activity, whatever the number of people"
    assert broadcasts[0]["users"] == sorted(p.pk for p in people)
    assert not [group for batch in sent for group, _ in batch if group.startswith("user.")], "no per-person messages"


def test_a_few_people_are_told_through_their_own_groups(make_user, settings):
    settings.FANOUT_INLINE_MAX = 3
    messages = live.personal_activity_messages([1, 2, 3], {"id": 9})
    assert [group for group, _ in messages] == ["user.1", "user.2", "user.3"]
    assert live.personal_activity_messages([1, 2, 3, 4], {"id": 9}) == [
        (live_broadcast.PROCESS_GROUP, {"type": "live.activity.many", "users": [1, 2, 3, 4], "activity": {"id": 9}})
    ]


def test_the_process_listens_while_it_holds_sockets_and_leaves_the_group_after_the_last(alice, erin, settings):
    settings.FANOUT_INLINE_MAX = 0  # even one person is told by broadcast

    async def scenario():
        before = set(await process_channels())
        first, second = await open_socket(alice), await open_socket(erin)
        joined = set(await process_channels()) - before
        assert len(joined) == 1, "one channel for the process, not one per socket"
        await first.disconnect()
        assert len(set(await process_channels()) - before) == 1, "still listening for the other socket"
        activity = await sync_to_async(feeds.activity_publish)(
            actor=None, verb="posted", summary="Still there?", obj=ObjectRef("user", "alice", "Alice"),
            audience=Audience.of(users=[erin.pk]),
        )
        frame = await second.receive_json_from(timeout=WAIT)
        assert frame["activity"]["id"] == activity.pk, "the socket that took over hears broadcasts"
        await second.disconnect()
        for _ in range(50):
            if not set(await process_channels()) - before:
                break
            await asyncio.sleep(0.1)
        assert not set(await process_channels()) - before, "gone with the last socket"

    async_to_sync(scenario)()


def _sends_fail_once_armed(app, armed: asyncio.Event):
    """The ASGI app with a server whose send raises once armed, as uvicorn does (an OSError) when
    the client left while a frame was on its way."""

    async def wrapped(scope, receive, send):
        async def guarded(message):
            if armed.is_set() and message["type"] == "websocket.send":
                raise OSError("the client went away")
            await send(message)

        await app(scope, receive, guarded)

    return wrapped


def test_a_socket_whose_client_vanished_mid_send_hands_over_the_broadcasts(alice, erin, settings):
    from channels.testing import WebsocketCommunicator

    from servicedesk.asgi import application
    from tests.feeds.test_live_reauthorization import HOST

    settings.FANOUT_INLINE_MAX = 0

    async def scenario():
        before = set(await process_channels())
        armed = asyncio.Event()
        ticket = await sync_to_async(feeds.live_ticket_issue)(user=alice)
        first = WebsocketCommunicator(_sends_fail_once_armed(application, armed), f"/ws/live/?ticket={ticket}", headers=[HOST])
        assert (await first.connect(timeout=WAIT))[0]
        assert (await first.receive_json_from(timeout=WAIT))["type"] == "welcome"
        listener = set(await process_channels()) - before
        second = await open_socket(erin)

        armed.set()
        await first.send_json_to({"action": "ping"})  # its answer finds the client gone
        await first.wait(timeout=WAIT)
        now = set(await process_channels()) - before
        assert len(now) == 1 and now != listener, "the other socket listens for the process now"
        activity = await sync_to_async(feeds.activity_publish)(
            actor=None, verb="posted", summary="Still there?", obj=ObjectRef("user", "alice", "Alice"),
            audience=Audience.of(users=[erin.pk]),
        )
        assert (await second.receive_json_from(timeout=WAIT))["activity"]["id"] == activity.pk
        layer = get_channel_layer()
        if hasattr(layer, "_group_key"):
            members = await layer.connection(0).zrange(layer._group_key(f"user.{alice.pk}"), 0, -1)
            assert not members, "the vanished socket left its person's group"
        await second.disconnect()

    async_to_sync(scenario)()


def test_a_process_whose_hand_over_failed_gets_a_listener_at_the_next_renewal(alice, erin, settings, monkeypatch):
    settings.FANOUT_INLINE_MAX = 0
    settings.LIVE_GROUP_EXPIRY_SECONDS = 2  # sockets renew every 2/3 s
    layer_class = type(get_channel_layer())
    working = layer_class.group_add

    async def scenario():
        before = set(await process_channels())
        first, second = await open_socket(alice), await open_socket(erin)

        async def refuse_the_process_group(self, group, channel):
            if group == live_broadcast.PROCESS_GROUP:
                raise ConnectionError("Redis went away")
            return await working(self, group, channel)

        monkeypatch.setattr(layer_class, "group_add", refuse_the_process_group)
        await first.disconnect()
        assert not set(await process_channels()) - before, "the hand-over failed: nobody listens"
        monkeypatch.setattr(layer_class, "group_add", working)
        for _ in range(40):
            if set(await process_channels()) - before:
                break
            await asyncio.sleep(0.1)
        assert len(set(await process_channels()) - before) == 1, "the remaining socket took over"
        activity = await sync_to_async(feeds.activity_publish)(
            actor=None, verb="posted", summary="Back", obj=ObjectRef("user", "alice", "Alice"),
            audience=Audience.of(users=[erin.pk]),
        )
        assert (await second.receive_json_from(timeout=WAIT))["activity"]["id"] == activity.pk
        await second.disconnect()

    async_to_sync(scenario)()
