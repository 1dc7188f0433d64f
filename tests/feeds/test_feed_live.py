"""Feed items reach followers' open sockets live, and stop when access is removed."""
import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator

from feeds import services
from servicedesk.asgi import application
from tickets import services as tickets

pytestmark = pytest.mark.django_db(transaction=True)


async def connect(user, stream=None):
    key = await sync_to_async(services.live_ticket_issue)(user=user)
    comm = WebsocketCommunicator(application, f"/ws/live/?ticket={key}")
    assert (await comm.connect())[0]
    await comm.receive_json_from()
    if stream:
        await comm.send_json_to({"action": "subscribe", "stream": stream})
        await comm.receive_json_from()
    return comm


def test_a_followers_socket_hears_of_followed_activity(alice, erin, bob):
    services.follow_create(actor=erin, target_type="user", key="bob")

    async def scenario():
        ws = await connect(erin)
        await sync_to_async(services.post_create)(actor=bob, wall_type="user", wall_key="bob", body="Coffee at 10 #people")
        frame = await ws.receive_json_from(timeout=3)
        assert frame["type"] == "activity" and frame["activity"]["verb"] == "posted"
        await ws.disconnect()

    async_to_sync(scenario)()


def test_no_frames_after_a_ticket_turns_private(alice, erin, bob):
    ticket = tickets.ticket_create(actor=alice, kind="incident", title="Wi-Fi", impact=2, urgency=2, visibility="public")
    services.follow_create(actor=erin, target_type="ticket", key=ticket.pk)

    async def scenario():
        ws = await connect(erin, f"ticket:{ticket.pk}")
        await sync_to_async(tickets.ticket_update)(actor=bob, ticket=ticket, visibility="private")
        while not await ws.receive_nothing(timeout=0.5):
            await ws.receive_json_from()  # the announcement of the change itself, if any
        await sync_to_async(tickets.comment_add)(actor=bob, ticket=ticket, body="Found the cause: hunter2")
        assert await ws.receive_nothing(timeout=1)
        await ws.send_json_to({"action": "resume", "since": 0})
        frames = []
        while True:
            frame = await ws.receive_json_from(timeout=3)
            frames.append(frame)
            if frame["type"] == "resumed":
                break
        assert all(f["type"] != "activity" for f in frames), frames
        await ws.disconnect()

    async_to_sync(scenario)()
