"""Redis failing under the event spine: requests and handshakes give up quickly and cleanly, the
outbox sweep and client resume make up for what was skipped."""
import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.test import override_settings
from redis.exceptions import ConnectionError as RedisConnectionError

from feeds import live, services
from feeds.audience import SIGNED_IN, Audience
from feeds.models import OutboxMessage
from feeds.services import NotificationSpec, ObjectRef
from tests.conftest import PASSWORD
from tests.feeds.test_live_consumer import communicator, run
from tests.support.processes import free_port

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_handshake_while_the_channel_layer_is_down_is_refused_with_1013_and_keeps_its_ticket(alice, monkeypatch):
    layer_class = type(get_channel_layer())
    working = layer_class.group_add

    async def down(self, group, channel):
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    async def scenario():
        ticket = await sync_to_async(services.live_ticket_issue)(user=alice)
        monkeypatch.setattr(layer_class, "group_add", down)
        comm = communicator(f"/ws/live/?ticket={ticket}")
        connected, _ = await comm.connect()
        assert connected, "accepted only to say why it closes"
        assert await comm.receive_output(timeout=5) == {"type": "websocket.close", "code": 1013}
        await comm.wait(timeout=5)

        monkeypatch.setattr(layer_class, "group_add", working)
        comm = communicator(f"/ws/live/?ticket={ticket}")
        connected, _ = await comm.connect()
        assert connected and (await comm.receive_json_from())["type"] == "welcome", "the same ticket works once Redis is back"
        await comm.disconnect()

    run(scenario)


def test_a_notification_both_pushed_and_replayed_reaches_the_socket_once(alice, erin):
    async def scenario():
        ticket = await sync_to_async(services.live_ticket_issue)(user=alice)
        comm = communicator(f"/ws/live/?ticket={ticket}")
        assert (await comm.connect())[0]
        welcome = await comm.receive_json_from()
        await sync_to_async(services.activity_publish)(
            actor=erin, verb="mentioned", obj=ObjectRef("user", "alice", "Alice"), audience=Audience.of(groups=[SIGNED_IN]),
            notify=[alice], notification=NotificationSpec(kind="post.mention", text="Erin mentioned you"),
        )
        pushed = await comm.receive_json_from(timeout=5)
        assert pushed["type"] == "notification" and pushed["notification"]["text"] == "Erin mentioned you"
        # The client resumes (a reconnect race): the server must not repeat what it just sent.
        await comm.send_json_to({"action": "resume", "since": welcome["last_activity_id"],
                                 "notifications_since": welcome["last_notification_id"]})
        frame = await comm.receive_json_from(timeout=5)
        assert frame["type"] == "resumed", f"nothing repeated before 'resumed', got {frame}"
        await comm.disconnect()

    run(scenario)


def test_after_commit_a_broker_outage_costs_one_failed_publish_not_one_per_outbox_row(alice, make_user, monkeypatch):
    from feeds.tasks import outbox_deliver, outbox_deliver_batch

    people = [make_user() for _ in range(5)]
    calls = []

    def broker_down(*args, **kwargs):
        calls.append(args)
        raise OSError("Connection refused")

    monkeypatch.setattr(outbox_deliver, "apply_async", broker_down)
    monkeypatch.setattr(outbox_deliver_batch, "apply_async", broker_down)
    services.activity_publish(
        actor=alice, verb="posted", obj=ObjectRef("user", "alice", "Alice"), audience=Audience.of(groups=[SIGNED_IN]),
        notify=people, notification=NotificationSpec(kind="post.mention", text="hello"),
    )
    rows = OutboxMessage.objects.filter(kind=OutboxMessage.Kind.EMAIL)
    assert rows.count() == 5 and not rows.exclude(status=OutboxMessage.Status.PENDING).exists(), "left to the sweep"
    # One attempt for the e-mail rows and one for the fan-out row (two commit callbacks), not six.
    assert len(calls) == 2


def test_live_pushes_give_up_at_the_first_channel_layer_failure(monkeypatch):
    layer_class = type(get_channel_layer())
    calls = []

    async def down(self, group, message):
        calls.append(group)
        raise RedisConnectionError("Connection refused")

    async def batch_down(self, messages):
        calls.append(messages[0][0])
        raise RedisConnectionError("Connection refused")

    monkeypatch.setattr(layer_class, "group_send", down)
    if hasattr(layer_class, "group_send_batch"):
        # Batched: three batches due, the first failure ends it.
        monkeypatch.setattr(layer_class, "group_send_batch", batch_down)
        monkeypatch.setattr(live, "BATCH_GROUPS", 4)
    live.send_many([(f"user.{n}", {"type": "live.unread", "count": n}) for n in range(10)])
    assert calls == ["user.0"]


def test_pages_and_throttled_endpoints_answer_while_the_cache_is_unreachable(alice, api):
    from django.core.cache import cache

    unreachable = {
        "default": {
            "BACKEND": "servicedesk.cache.FailSoftRedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    with override_settings(CACHES=unreachable):
        assert cache.get("anything", "missing") == "missing"
        cache.set("anything", 1)
        with pytest.raises(ValueError):
            cache.incr("anything")
        response = api.post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}, format="json")
        assert response.status_code == 200, response.content
