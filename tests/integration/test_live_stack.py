"""Real ASGI server process + real Celery worker + Redis channel layer + PostgreSQL."""
import json
import time

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from feeds import services
from feeds.audience import AGENTS, SIGNED_IN, Audience
from feeds.services import NotificationSpec, ObjectRef
from tests.conftest import PASSWORD
from tests.support.processes import http

pytestmark = pytest.mark.integration


def token_for(base, username, agent):
    status, body = http("POST", f"{base}/api/v1/auth/token/", body={"username": username, "password": PASSWORD}, headers={"User-Agent": agent})
    assert status == 200, body
    return body["token"]


def live_ticket(base, token):
    status, body = http("POST", f"{base}/api/v1/live/ticket/", headers={"Authorization": f"Token {token}"})
    assert status == 200, body
    return body["ticket"]


def ws_url(base, ticket=None):
    url = base.replace("http://", "ws://") + "/ws/live/"
    return f"{url}?ticket={ticket}" if ticket else url


def frames_until(ws, predicate, timeout):
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        try:
            frame = json.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
        except TimeoutError:
            break
        seen.append(frame)
        if predicate(frame):
            return frame, seen
    raise AssertionError(f"no matching frame within {timeout}s; got {seen}")


def test_notification_from_a_worker_reaches_the_socket_within_two_seconds(alice, asgi_server, start_worker):
    start_worker()
    base = asgi_server.extra["base_url"]
    token = token_for(base, "alice", "laptop")  # the first sign-in is not news
    with connect(ws_url(base, live_ticket(base, token)), open_timeout=5) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "welcome"
        started = time.monotonic()
        token_for(base, "alice", "strange-phone")  # the worker notices a new device
        frame, _ = frames_until(ws, lambda f: f["type"] == "notification", timeout=2)
        assert time.monotonic() - started < 2
        assert frame["notification"]["kind"] == "security.sign_in"
        assert "strange-phone" in frame["notification"]["text"]


def test_sockets_without_auth_or_from_a_foreign_origin_are_refused(alice, asgi_server):
    base = asgi_server.extra["base_url"]
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url(base), open_timeout=5)
    assert refused.value.response.status_code == 403

    with pytest.raises(InvalidStatus):
        connect(ws_url(base), origin="http://127.0.0.1:1", open_timeout=5, additional_headers={"Cookie": "sessionid=forged"})

    ticket = live_ticket(base, token_for(base, "alice", "laptop"))
    with pytest.raises(InvalidStatus):
        connect(ws_url(base, ticket), origin="https://evil.example", open_timeout=5)


def test_resume_after_a_closed_socket_delivers_the_gap_and_nothing_unseen(alice, erin, asgi_server):
    base = asgi_server.extra["base_url"]
    token = token_for(base, "erin", "laptop")
    with connect(ws_url(base, live_ticket(base, token)), open_timeout=5) as ws:
        welcome = json.loads(ws.recv(timeout=5))

    # While erin is away: two activities she may see, two she may not.
    wall = ObjectRef("user", "alice", "Alice Martin")
    to_erin = services.activity_publish(
        actor=alice, verb="mentioned", obj=wall, audience=Audience.of(users=[erin.pk]), summary="hi erin",
        notify=[erin], notification=NotificationSpec(kind="mention", text="Alice mentioned you"),
    )
    services.activity_publish(actor=alice, verb="noted", obj=wall, audience=Audience.of(groups=[AGENTS]), summary="internal")
    public = services.activity_publish(actor=alice, verb="posted", obj=wall, audience=Audience.of(groups=[SIGNED_IN]), summary="public")
    services.activity_publish(actor=None, verb="private", obj=wall, audience=Audience.of(users=[alice.pk]), summary="alice only")

    with connect(ws_url(base, live_ticket(base, token)), open_timeout=5) as ws:
        json.loads(ws.recv(timeout=5))
        ws.send(json.dumps({"action": "subscribe", "stream": "user:alice"}))
        assert json.loads(ws.recv(timeout=5)) == {"type": "subscribed", "stream": "user:alice"}
        ws.send(json.dumps({"action": "resume", "since": welcome["last_activity_id"], "notifications_since": welcome["last_notification_id"]}))
        _, frames = frames_until(ws, lambda f: f["type"] == "resumed", timeout=5)

    activities = [f["activity"] for f in frames if f["type"] == "activity"]
    assert [a["id"] for a in activities] == [to_erin.pk, public.pk]
    assert [f["notification"]["text"] for f in frames if f["type"] == "notification"] == ["Alice mentioned you"]
    assert all(a["summary"] not in ("internal", "alice only") for a in activities)


def test_an_idle_socket_stays_open_and_still_hears_news(alice, asgi_server):
    # The channel layer blocks on Redis for 5 s at a time waiting for a message; a socket quiet
    # for longer than that must not lose its consumer.
    from django.conf import settings
    from channels_redis.core import RedisChannelLayer

    assert settings.CHANNEL_LAYER_SOCKET_TIMEOUT > RedisChannelLayer.brpop_timeout
    base = asgi_server.extra["base_url"]
    with connect(ws_url(base, live_ticket(base, token_for(base, "alice", "laptop"))), open_timeout=5) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "welcome"
        with pytest.raises(TimeoutError):
            ws.recv(timeout=RedisChannelLayer.brpop_timeout + 2)
        note = services.activity_publish(
            actor=None, verb="noted", obj=ObjectRef("user", "alice", "Alice Martin"), audience=Audience.of(users=[alice.pk]),
            summary="still listening",
        )
        frame, _ = frames_until(ws, lambda f: f["type"] == "activity", timeout=5)
        assert frame["activity"]["id"] == note.pk
