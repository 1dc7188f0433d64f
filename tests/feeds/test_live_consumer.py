"""The /ws/live/ consumer over the real Redis channel layer, in process."""
import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from feeds import services
from feeds.audience import AGENTS, SIGNED_IN, Audience
from feeds.services import NotificationSpec, ObjectRef
from feeds import streams
from servicedesk.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://127.0.0.1:8000")
HOST = (b"host", b"127.0.0.1:8000")  # what a browser on http://127.0.0.1:8000 sends


def session_cookie(user) -> bytes:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session["_auth_user_backend"] = "accounts.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    return f"sessionid={session.session_key}".encode()


def communicator(path="/ws/live/", headers=()):
    headers = list(headers)
    if not any(name == b"host" for name, _ in headers):
        headers.append(HOST)
    return WebsocketCommunicator(application, path, headers=headers)


def publish(**kwargs):
    defaults = dict(actor=None, verb="did", summary="s", obj=ObjectRef("user", "alice", "Alice"))
    return services.activity_publish(**{**defaults, **kwargs})


@pytest.fixture(autouse=True)
def _test_streams():
    previous = streams._checks.get("ticket")
    streams.register("ticket", lambda user, key: key != "999")
    yield
    if previous is None:
        streams._checks.pop("ticket", None)
    else:
        streams.register("ticket", previous)


def run(coro_fn):
    async_to_sync(coro_fn)()


def test_refuses_sockets_without_auth_or_with_a_foreign_origin(alice):
    async def scenario():
        for headers in ([ORIGIN], [], [(b"origin", b"https://evil.example"), (b"cookie", await sync_to_async(session_cookie)(alice))]):
            comm = communicator(headers=headers)
            connected, _ = await comm.connect()
            assert not connected
            await comm.disconnect()
        ticket = await sync_to_async(services.live_ticket_issue)(user=alice)
        comm = communicator(f"/ws/live/?ticket={ticket}", headers=[(b"origin", b"https://evil.example")])
        connected, _ = await comm.connect()
        assert not connected, "a ticket does not excuse a foreign origin"
        await comm.disconnect()

    run(scenario)


def test_session_cookie_and_ticket_both_authenticate(alice):
    async def scenario():
        cookie = await sync_to_async(session_cookie)(alice)
        comm = communicator(headers=[ORIGIN, (b"cookie", cookie)])
        connected, _ = await comm.connect()
        assert connected
        welcome = await comm.receive_json_from()
        assert welcome["type"] == "welcome" and welcome["user"] == "alice"
        await comm.disconnect()

        ticket = await sync_to_async(services.live_ticket_issue)(user=alice)
        comm = communicator(f"/ws/live/?ticket={ticket}")
        connected, _ = await comm.connect()
        assert connected
        assert (await comm.receive_json_from())["user"] == "alice"
        await comm.disconnect()
        again = communicator(f"/ws/live/?ticket={ticket}")
        connected, _ = await again.connect()
        assert not connected, "tickets are single-use"
        await again.disconnect()

    run(scenario)


def test_live_delivery_respects_the_audience(alice, erin, bob):
    async def connect(user):
        ticket = await sync_to_async(services.live_ticket_issue)(user=user)
        comm = communicator(f"/ws/live/?ticket={ticket}")
        assert (await comm.connect())[0]
        await comm.receive_json_from()  # welcome
        await comm.send_json_to({"action": "subscribe", "stream": "ticket:7"})
        assert await comm.receive_json_from() == {"type": "subscribed", "stream": "ticket:7"}
        return comm

    async def scenario():
        a, e, b = await connect(alice), await connect(erin), await connect(bob)
        ticket = ObjectRef("ticket", "7", "Printer")
        await sync_to_async(publish)(obj=ticket, audience=Audience.of(groups=[AGENTS]))
        public = await sync_to_async(publish)(
            obj=ticket,
            audience=Audience.of(users=[alice.pk], groups=[SIGNED_IN]),
            notify=[alice],
            notification=NotificationSpec(kind="k", text="hello alice"),
        )
        frames_b = [await b.receive_json_from(timeout=2), await b.receive_json_from(timeout=2)]
        assert [f["activity"]["object"]["key"] for f in frames_b] == ["7", "7"]

        first_e = await e.receive_json_from(timeout=2)
        assert first_e["activity"]["id"] == public.pk, "erin never gets the agents-only activity"
        assert await e.receive_nothing(timeout=0.3)

        alice_frames = [await a.receive_json_from(timeout=2) for _ in range(2)]
        kinds = sorted(f["type"] for f in alice_frames)
        assert kinds == ["activity", "notification"], "addressed + subscribed yields one activity frame"
        assert await a.receive_nothing(timeout=0.3)
        for comm in (a, e, b):
            await comm.disconnect()

    run(scenario)


def test_subscribe_is_refused_for_streams_the_user_may_not_see(alice):
    async def scenario():
        ticket = await sync_to_async(services.live_ticket_issue)(user=alice)
        comm = communicator(f"/ws/live/?ticket={ticket}")
        await comm.connect()
        await comm.receive_json_from()
        for stream in ("ticket:999", "nonsense", 42, "unknown:1"):
            await comm.send_json_to({"action": "subscribe", "stream": stream})
            frame = await comm.receive_json_from()
            assert frame["type"] == "error"
        await comm.send_to(text_data="not json")
        assert (await comm.receive_json_from())["type"] == "error"
        await comm.send_json_to({"action": "resume", "since": "yesterday"})
        assert (await comm.receive_json_from())["type"] == "error"
        await comm.disconnect()

    run(scenario)


def test_resume_replays_what_was_missed_and_nothing_else(alice, erin):
    async def scenario():
        ticket = await sync_to_async(services.live_ticket_issue)(user=erin)
        comm = communicator(f"/ws/live/?ticket={ticket}")
        await comm.connect()
        welcome = await comm.receive_json_from()
        await comm.disconnect()

        obj = ObjectRef("ticket", "7", "Printer")
        mine = await sync_to_async(publish)(
            obj=obj, audience=Audience.of(users=[erin.pk]), notify=[erin], notification=NotificationSpec(kind="k", text="for erin")
        )
        await sync_to_async(publish)(obj=obj, audience=Audience.of(users=[alice.pk]))
        await sync_to_async(publish)(obj=obj, audience=Audience.of(groups=[AGENTS]))
        public = await sync_to_async(publish)(obj=obj, audience=Audience.of(groups=[SIGNED_IN]))

        ticket = await sync_to_async(services.live_ticket_issue)(user=erin)
        comm = communicator(f"/ws/live/?ticket={ticket}")
        await comm.connect()
        await comm.receive_json_from()
        await comm.send_json_to({"action": "subscribe", "stream": "ticket:7"})
        await comm.receive_json_from()
        await comm.send_json_to(
            {"action": "resume", "since": welcome["last_activity_id"], "notifications_since": welcome["last_notification_id"]}
        )
        frames = []
        while True:
            frame = await comm.receive_json_from(timeout=2)
            frames.append(frame)
            if frame["type"] == "resumed":
                break
        activity_ids = [f["activity"]["id"] for f in frames if f["type"] == "activity"]
        assert activity_ids == [mine.pk, public.pk]
        assert [f["notification"]["text"] for f in frames if f["type"] == "notification"] == ["for erin"]
        await comm.disconnect()

    run(scenario)
