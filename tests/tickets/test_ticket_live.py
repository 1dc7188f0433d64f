"""Ticket activity over /ws/live/: followers and subscribers get what they may see, nothing else."""
import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator

from feeds import services as feed_services
from servicedesk.asgi import application
from tickets import services

pytestmark = pytest.mark.django_db(transaction=True)


async def connect(user, stream=None):
    ticket = await sync_to_async(feed_services.live_ticket_issue)(user=user)
    comm = WebsocketCommunicator(application, f"/ws/live/?ticket={ticket}")
    connected, _ = await comm.connect()
    assert connected
    await comm.receive_json_from()
    if stream:
        await comm.send_json_to({"action": "subscribe", "stream": stream})
        return comm, await comm.receive_json_from()
    return comm, None


def test_internal_note_never_reaches_an_end_user_socket(alice, erin, bob):
    ticket = services.ticket_create(actor=alice, kind="incident", title="VPN", impact=2, urgency=2, visibility="public")
    services.ticket_follow(actor=erin, ticket=ticket)

    async def scenario():
        erin_ws, subscribed = await connect(erin, f"ticket:{ticket.pk}")
        assert subscribed == {"type": "subscribed", "stream": f"ticket:{ticket.pk}"}
        bob_ws, _ = await connect(bob, f"ticket:{ticket.pk}")
        await sync_to_async(services.comment_add)(actor=bob, ticket=ticket, body="hunter2 is the password", internal=True)
        note = await bob_ws.receive_json_from(timeout=2)
        assert note["activity"]["verb"] == "noted"
        assert await erin_ws.receive_nothing(timeout=0.5)
        await sync_to_async(services.comment_add)(actor=bob, ticket=ticket, body="Please reconnect", internal=False)
        frames = [await erin_ws.receive_json_from(timeout=2), await erin_ws.receive_json_from(timeout=2)]
        assert sorted(f["type"] for f in frames) == ["activity", "notification"]
        assert all("hunter2" not in str(f) for f in frames)
        await erin_ws.disconnect()
        await bob_ws.disconnect()

    async_to_sync(scenario)()


def test_private_ticket_and_queue_streams_are_refused_to_outsiders(alice, erin, bob):
    ticket = services.ticket_create(actor=alice, kind="incident", title="Payroll", impact=2, urgency=2)

    async def scenario():
        for stream in (f"ticket:{ticket.pk}", "queue:all", "ticket:999999", "ticket:abc"):
            ws, frame = await connect(erin, stream)
            assert frame["type"] == "error", stream
            await ws.disconnect()
        ws, frame = await connect(bob, "queue:all")
        assert frame["type"] == "subscribed"
        await sync_to_async(services.ticket_create)(actor=erin, kind="request", title="New mouse", impact=3, urgency=3)
        frame = await ws.receive_json_from(timeout=2)
        assert frame["activity"]["verb"] == "opened" and frame["activity"]["target"]["key"] == "all"
        await ws.disconnect()

    async_to_sync(scenario)()
