"""Presence on a ticket's stream: agents see each other and who is typing; end users neither
announce nor hear; a closing socket says it left."""

import pytest
from asgiref.sync import sync_to_async

from accounts.models import Role
from tests.feeds.test_live_consumer import ORIGIN, communicator, run, session_cookie
from tickets import services as tickets
from tickets.models import Kind

pytestmark = pytest.mark.django_db(transaction=True)


async def connect(user):
    cookie = await sync_to_async(session_cookie)(user)
    comm = communicator(headers=[ORIGIN, (b"cookie", cookie)])
    connected, _ = await comm.connect()
    assert connected
    assert (await comm.receive_json_from())["type"] == "welcome"
    return comm


async def subscribe(comm, stream):
    await comm.send_json_to({"action": "subscribe", "stream": stream})
    assert await comm.receive_json_from() == {"type": "subscribed", "stream": stream}


async def next_presence(comm):
    while True:
        frame = await comm.receive_json_from(timeout=3)
        if frame["type"] == "presence":
            return frame


def test_two_agents_on_one_ticket_see_each_other_and_typing_and_leaving(alice, bob, make_user):
    carol = make_user("carol", role=Role.AGENT, display_name="Carol Diaz")
    ticket = tickets.ticket_create(actor=alice, kind=Kind.INCIDENT, title="Mail is down")
    stream = f"ticket:{ticket.pk}"

    async def scenario():
        first, second = await connect(bob), await connect(carol)
        await subscribe(first, stream)
        await subscribe(second, stream)
        await first.send_json_to({"action": "presence", "stream": stream, "state": "viewing"})
        seen = await next_presence(second)
        assert seen["user"] == "bob" and seen["name"] == "Bob Okafor" and seen["state"] == "viewing" and seen["ttl"] > 0
        assert await first.receive_nothing(timeout=0.2), "nobody hears themselves"
        await second.send_json_to({"action": "presence", "stream": stream, "state": "typing"})
        assert (await next_presence(first))["state"] == "typing"
        await second.disconnect()
        left = await next_presence(first)
        assert left["user"] == "carol" and left["state"] == "left"
        await first.disconnect()

    run(scenario)


def test_end_users_neither_announce_nor_hear_presence_and_frames_are_checked(alice, bob):
    ticket = tickets.ticket_create(actor=alice, kind=Kind.INCIDENT, title="Mail is down")
    stream = f"ticket:{ticket.pk}"

    async def scenario():
        agent, requester = await connect(bob), await connect(alice)
        await subscribe(agent, stream)
        await subscribe(requester, stream)
        await requester.send_json_to({"action": "presence", "stream": stream, "state": "typing"})
        assert (await requester.receive_json_from())["type"] == "error"
        assert await agent.receive_nothing(timeout=0.2)
        await agent.send_json_to({"action": "presence", "stream": stream, "state": "viewing"})
        assert await requester.receive_nothing(timeout=0.3), "collision is the agents' business"
        for bad in ({"stream": "ticket:999999", "state": "viewing"}, {"stream": stream, "state": "dancing"},
                    {"stream": ["x"], "state": "viewing"}):
            await agent.send_json_to({"action": "presence", **bad})
            assert (await agent.receive_json_from())["type"] == "error"
        await agent.disconnect()
        await requester.disconnect()

    run(scenario)
