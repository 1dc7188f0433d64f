"""A big incident: per-person delivery happens in workers, in chunks, never in the request."""
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from feeds import services
from feeds.audience import Audience
from feeds.models import Notification, OutboxMessage, TimelineEntry
from tickets import services as tickets

pytestmark = pytest.mark.django_db


class CountingBackend(EmailBackend):
    """The in-memory backend, counting how many connections were made."""

    made = 0

    def __init__(self, *args, **kwargs):
        type(self).made += 1
        super().__init__(*args, **kwargs)


def incident_with_followers(make_user, requester, count: int):
    ticket = tickets.ticket_create(actor=requester, kind="incident", title="Mail is down", visibility="public")
    for n in range(count):
        tickets.ticket_follow(actor=make_user(f"f{count}x{n}"), ticket=ticket)
    return ticket


def comment_queries(api_as, agent, ticket) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = api_as(agent).post(f"/api/v1/tickets/{ticket.pk}/comments/", {"body": "We are on it"}, format="json")
    assert response.status_code == 201, response.content
    return len(queries)


def test_a_comment_costs_the_same_queries_with_1_or_50_followers(
    api_as, make_user, alice, bob, settings, django_assert_num_queries, django_capture_on_commit_callbacks, monkeypatch
):
    from feeds import live
    from feeds.tasks import outbox_deliver, outbox_deliver_batch

    settings.FANOUT_INLINE_MAX = 0  # every activity's per-person part goes to workers
    small = incident_with_followers(make_user, alice, 1)
    big = incident_with_followers(make_user, alice, 50)
    comment_queries(api_as, bob, incident_with_followers(make_user, alice, 2))  # warm caches (content types, ...)
    expected = comment_queries(api_as, bob, small)
    # Bob follows the second ticket from his first comment on it, as on the first one.
    with django_assert_num_queries(expected):
        api_as(bob).post(f"/api/v1/tickets/{big.pk}/comments/", {"body": "We are on it"}, format="json")
    assert not Notification.objects.filter(activity__stream=f"ticket:{big.pk}").exists(), "told by workers, later"

    # What the request does once committed does not grow either: the same pushes, the same tasks.
    work = {"tasks": 0, "pushes": 0}
    monkeypatch.setattr(outbox_deliver, "apply_async", lambda *a, **k: work.__setitem__("tasks", work["tasks"] + 1))
    monkeypatch.setattr(outbox_deliver_batch, "apply_async", lambda *a, **k: work.__setitem__("tasks", work["tasks"] + 1))
    monkeypatch.setattr(live, "send_many", lambda messages: work.__setitem__("pushes", work["pushes"] + len(messages)))
    done = []
    for ticket in (small, big):
        work.update(tasks=0, pushes=0)
        with django_capture_on_commit_callbacks(execute=True):
            api_as(bob).post(f"/api/v1/tickets/{ticket.pk}/comments/", {"body": "Still on it"}, format="json")
        done.append(dict(work))
    assert done[0] == done[1], "one message per stream and one task per chunk, whatever the follower count"
    assert done[1]["pushes"] <= 3


def test_with_default_settings_the_queries_do_not_grow_past_the_inline_limit(api_as, make_user, alice, bob, settings):
    comment_queries(api_as, bob, incident_with_followers(make_user, alice, 2))
    above = settings.FANOUT_INLINE_MAX + 5
    first = comment_queries(api_as, bob, incident_with_followers(make_user, alice, above))
    second = comment_queries(api_as, bob, incident_with_followers(make_user, alice, above * 3))
    assert first == second


def test_chunked_delivery_tells_every_follower_once(
    make_user, alice, bob, settings, django_capture_on_commit_callbacks
):
    settings.FANOUT_INLINE_MAX = 5
    settings.FANOUT_CHUNK = 7
    settings.EMAIL_BACKEND = f"{__name__}.CountingBackend"
    ticket = incident_with_followers(make_user, alice, 24)
    muted = make_user("muted")
    tickets.ticket_follow(actor=muted, ticket=ticket)
    services.mute_set(actor=muted, target_type="ticket", key=ticket.pk)
    mail.outbox.clear()
    CountingBackend.made = 0
    with django_capture_on_commit_callbacks(execute=True):
        comment = tickets.comment_add(actor=bob, ticket=ticket, body="Mail flows again")

    activity = Notification.objects.filter(recipient=alice).latest("id").activity
    followers = set(tickets.ticket_follows(ticket).exclude(user=bob).values_list("user_id", flat=True))
    assert len(followers) == 26  # alice, 24 followers, the muted one
    told = list(Notification.objects.filter(activity=activity).values_list("recipient_id", flat=True))
    assert sorted(told) == sorted(followers), "each follower told once, the agent not at all"
    entries = set(TimelineEntry.objects.filter(activity=activity).values_list("user_id", flat=True))
    assert entries == (followers | {bob.pk}) - {muted.pk}, "in every feed but the muted one"
    chunks = OutboxMessage.objects.filter(key__startswith=f"deliver:{activity.pk}:")
    assert chunks.count() == 4 and not chunks.exclude(status="sent").exists()  # 27 people in chunks of 7
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        Notification.objects.filter(activity=activity).values_list("recipient__email", flat=True)
    )
    assert f"#comment-{comment.pk}" in mail.outbox[0].body
    assert CountingBackend.made == 4, "26 e-mails from 4 chunks: one connection per chunk, not one per e-mail"

    # A chunk delivered again (a retried task, a sweep) sends nothing twice.
    for chunk in chunks:
        assert services.outbox_message_deliver(message_id=chunk.pk) is False
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        services.outbox_sweep()
    assert Notification.objects.filter(activity=activity).count() == 26 and len(mail.outbox) == 26


def test_a_chunk_respects_access_narrowed_after_publishing(make_user, alice, bob, settings):
    settings.FANOUT_INLINE_MAX = 0
    ticket = incident_with_followers(make_user, alice, 3)
    tickets.comment_add(actor=bob, ticket=ticket, body="Looking")
    chunk = OutboxMessage.objects.filter(kind="deliver").latest("id")
    tickets.ticket_update(actor=bob, ticket=ticket, visibility="private")
    assert services.outbox_message_deliver(message_id=chunk.pk) is True
    told = set(Notification.objects.filter(activity_id=chunk.payload["activity_id"]).values_list("recipient__username", flat=True))
    assert told == {"alice"}, "followers who lost access before delivery are not told"


def test_one_sweep_drains_more_than_one_batch(alice, settings):
    settings.OUTBOX_SWEEP_BATCH = 50
    services.activity_publish(
        actor=None, verb="did", obj=services.ObjectRef("user", "alice", "Alice"),
        audience=Audience.of(users=[alice.pk]), notify=[alice],
        notification=services.NotificationSpec(kind="test.event", text="Something happened", url="/x/"),
    )
    note = Notification.objects.get(recipient=alice)
    past = timezone.now() - timedelta(minutes=1)
    services.outbox_enqueue([
        OutboxMessage(key=f"backlog:{n}", kind="email", payload={"notification_id": note.pk}, next_attempt_at=past)
        for n in range(230)
    ])
    mail.outbox.clear()
    with time_machine.travel(timezone.now() + timedelta(minutes=1)):
        sent = services.outbox_sweep()
    assert sent == 232, "the backlog, the fan-out row and alice's own e-mail, in one sweep (not 200)"
    assert len(mail.outbox) == 231
    assert not OutboxMessage.objects.filter(status="pending").exists()


def test_a_sweep_stops_at_its_time_budget(alice, settings):
    past = timezone.now() - timedelta(minutes=1)
    services.activity_publish(
        actor=None, verb="did", obj=services.ObjectRef("user", "alice", "Alice"),
        audience=Audience.of(users=[alice.pk]), notify=[alice],
        notification=services.NotificationSpec(kind="test.event", text="Something happened", url="/x/"),
    )
    note = Notification.objects.get(recipient=alice)
    services.outbox_enqueue([
        OutboxMessage(key=f"backlog:{n}", kind="email", payload={"notification_id": note.pk}, next_attempt_at=past)
        for n in range(30)
    ])
    assert services.outbox_sweep(budget_seconds=0) == 0
    assert services.outbox_sweep(budget_seconds=30, batch=7) == 30


def test_email_tasks_are_published_behind_delivery_chunks(
    make_user, alice, bob, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from feeds.tasks import outbox_deliver, outbox_deliver_batch

    settings.FANOUT_INLINE_MAX = 0
    settings.FANOUT_CHUNK = 3
    settings.OUTBOX_EMAIL_BATCH = 2
    ticket = incident_with_followers(make_user, alice, 5)
    published = []
    monkeypatch.setattr(outbox_deliver, "apply_async", lambda args, **k: published.append(("deliver", args[0], k.get("priority"))))
    monkeypatch.setattr(outbox_deliver_batch, "apply_async", lambda args, **k: published.append(("batch", args[0], k.get("priority"))))
    with django_capture_on_commit_callbacks(execute=True):
        tickets.comment_add(actor=bob, ticket=ticket, body="Mail is flowing again")
    chunks = [pk for kind, pk, _ in published]
    assert published and all(priority is None for *_, priority in published), "fan-out and chunks at the default"
    for pk in chunks:
        with django_capture_on_commit_callbacks(execute=True):
            services.outbox_message_deliver(message_id=pk)  # what a worker does; its e-mails are queued now
    emails = [entry for entry in published if entry[0] == "batch"]
    assert emails and all(priority == settings.OUTBOX_EMAIL_PRIORITY == 9 for *_, priority in emails)
    assert all(len(ids) <= 2 for _, ids, _ in emails)


def test_the_redis_broker_hands_out_a_delivery_before_emails_queued_earlier(settings):
    import uuid

    from servicedesk.celery import app

    queue = f"priority-test-{uuid.uuid4().hex[:8]}"
    with app.connection_for_write() as connection:
        with connection.SimpleQueue(queue) as simple:
            for n in range(3):
                simple.put({"email": n}, priority=settings.OUTBOX_EMAIL_PRIORITY)
            simple.put({"delivery": 1})
            first = simple.get(timeout=5)
            rest = [simple.get(timeout=5) for _ in range(3)]
            for message in [first, *rest]:
                message.ack()
            simple.queue.delete()
    assert first.payload == {"delivery": 1}
    assert [m.payload for m in rest] == [{"email": 0}, {"email": 1}, {"email": 2}]
