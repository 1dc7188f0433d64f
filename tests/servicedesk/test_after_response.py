"""Live pushes a request causes go out once its response has been sent, on the event loop: an
incident's comment is not answered behind the frames it hands to a thousand sockets."""
import asyncio
import logging

import pytest
from channels.layers import get_channel_layer

from accounts import services as accounts
from feeds import live, streams
from servicedesk import after_response
from servicedesk.asgi import django_asgi_app
from tickets import services as tickets

pytestmark = pytest.mark.django_db(transaction=True)


def call(path: str, *, method: str, headers=(), body: bytes = b"", log: list) -> tuple[int, bytes]:
    """The ASGI application for one request; what it sends is written to `log` as it happens."""
    async def run():
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                 "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
                 "headers": [(b"host", b"testserver"), (b"content-length", str(len(body)).encode()), *headers], "client": ("127.0.0.1", 5000),
                 "server": ("testserver", 80)}
        sent = {}

        async def receive():
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message):
            if message["type"] == "http.response.start":
                sent["status"] = message["status"]
            sent.setdefault("body", b"")
            sent["body"] += message.get("body", b"")
            log.append(message["type"])

        await django_asgi_app(scope, receive, send)
        return sent["status"], sent["body"]

    return asyncio.run(run())


def test_a_comments_live_push_goes_out_after_its_response(alice, bob, monkeypatch):
    ticket = tickets.ticket_create(actor=alice, kind="incident", title="VPN down", impact=1, urgency=1,
                                   visibility="public")
    _, token = accounts.api_token_create(user=bob)
    layer = get_channel_layer()
    log: list = []
    pushed = []
    sending = type(layer).group_send_batch

    async def recording(self, messages):
        log.append("push")
        pushed.extend(messages)
        await sending(self, messages)

    monkeypatch.setattr(type(layer), "group_send_batch", recording)
    status, answer = call(f"/api/v1/tickets/{ticket.pk}/comments/", method="POST",
                  headers=[(b"authorization", f"Token {token}".encode()), (b"content-type", b"application/json")],
                  body=b'{"body": "Failing over now", "internal": false}', log=log)
    assert status == 201, answer
    assert log == ["http.response.start", "http.response.body", "push"]
    group = streams.group_name(f"ticket:{ticket.pk}")
    assert any(g == group and m["activity"]["summary"] for g, m in pushed), pushed


def test_outside_a_request_a_push_goes_out_at_once(alice, monkeypatch):
    layer = get_channel_layer()
    pushed = []

    async def recording(self, messages):
        pushed.extend(messages)

    monkeypatch.setattr(type(layer), "group_send_batch", recording)
    assert after_response.defer(recording) is False
    live.send_many([(streams.user_group_name(alice.pk), {"type": "live.event", "event": "leaderboard"})])
    assert pushed == [(streams.user_group_name(alice.pk), {"type": "live.event", "event": "leaderboard"})]


def test_a_failing_piece_of_work_does_not_stop_the_next(caplog):
    done = []

    async def failing():
        raise ConnectionError("redis went away")

    async def working():
        done.append(True)

    queue = [failing, working]
    with caplog.at_level(logging.WARNING, logger="servicedesk.after_response"):
        asyncio.run(after_response.run(queue))
    assert done == [True] and queue == []
    assert "work after the response failed" in caplog.text


def test_outbox_rows_go_to_the_broker_after_the_response_and_the_thread_keeps_no_connection(alice, bob, monkeypatch):
    from django.db import connection

    from feeds import tasks
    from feeds.models import OutboxMessage

    ticket = tickets.ticket_create(actor=alice, kind="incident", title="Mail is slow", impact=2, urgency=2,
                                   visibility="public")
    _, token = accounts.api_token_create(user=bob)
    log: list = []
    published = []

    class Recording:
        def apply_async(self, args=None, kwargs=None, **options):
            log.append("publish")
            published.append(args)

    monkeypatch.setattr(tasks, "outbox_deliver", Recording())
    monkeypatch.setattr(tasks, "outbox_deliver_batch", Recording())
    status, answer = call(f"/api/v1/tickets/{ticket.pk}/comments/", method="POST",
                          headers=[(b"authorization", f"Token {token}".encode()), (b"content-type", b"application/json")],
                          body=b'{"body": "Looking at the mail relay", "internal": false}', log=log)
    assert status == 201, answer
    # The requester's e-mail about the comment: committed with it, handed to the broker afterwards.
    email = OutboxMessage.objects.get(kind=OutboxMessage.Kind.EMAIL, status=OutboxMessage.Status.PENDING)
    assert log[:2] == ["http.response.start", "http.response.body"] and set(log[2:]) == {"publish"}
    assert any(email.pk in (args[0] if isinstance(args[0], list) else [args[0]]) for args in published), published
    idle = django_asgi_app._idle[-1]
    assert idle.submit(lambda: connection.connection is None).result(timeout=5)
