from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from feeds import selectors, services
from feeds.audience import AGENTS, SIGNED_IN, Audience
from feeds.models import Activity, Notification, OutboxMessage
from feeds.services import NotificationSpec, ObjectRef

pytestmark = pytest.mark.django_db

NOTE = NotificationSpec(kind="test.event", text="Something happened", url="/somewhere/")


def publish(actor, audience, notify=(), obj=ObjectRef("user", "alice", "Alice")):
    return services.activity_publish(
        actor=actor, verb="did", obj=obj, audience=audience, summary="did a thing", notify=notify, notification=NOTE
    )


def test_notifications_only_reach_people_the_audience_admits(alice, erin, bob, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        publish(None, Audience.of(users=[alice.pk], groups=[AGENTS]), notify=[alice, erin, bob, alice])
    recipients = set(Notification.objects.values_list("recipient__username", flat=True))
    assert recipients == {"alice", "bob"}, "erin is outside the audience; alice is told once"


def test_the_actor_is_never_notified_of_their_own_action(alice, bob):
    publish(bob, Audience.of(groups=[SIGNED_IN]), notify=[alice, bob])
    assert list(Notification.objects.values_list("recipient__username", flat=True)) == ["alice"]


def test_an_activity_needs_an_audience(alice):
    with pytest.raises(ValueError):
        publish(alice, Audience())
    assert not Activity.objects.exists()


def test_an_audience_goes_with_its_activity_or_its_person(alice, erin, bob):
    """Audience rows carry no database keys (one per follower, written in the request); deleting an
    activity or a person still deletes their rows."""
    from feeds.models import ActivityAudience

    first = publish(bob, Audience.of(users=[alice.pk, erin.pk], groups=[AGENTS]))
    second = publish(bob, Audience.of(users=[alice.pk, erin.pk]))
    first.delete()
    assert set(ActivityAudience.objects.values_list("activity_id", flat=True)) == {second.pk}
    erin.delete()
    assert list(ActivityAudience.objects.values_list("activity_id", "user_id")) == [(second.pk, alice.pk)]


def test_email_goes_through_the_outbox_exactly_once(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        publish(None, Audience.of(users=[alice.pk]), notify=[alice])
    message = OutboxMessage.objects.get(kind="email")
    assert message.status == OutboxMessage.Status.SENT and message.attempts == 1
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["alice@example.com"] and "http://127.0.0.1:8000/somewhere/" in sent.body

    # A retried task and the sweep both find nothing left to send.
    assert services.outbox_message_deliver(message_id=message.pk) is False
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        assert services.outbox_sweep() == 0
    assert len(mail.outbox) == 1


def test_no_email_for_people_who_turned_it_off(alice, django_capture_on_commit_callbacks):
    alice.email_notifications = False
    alice.save(update_fields=["email_notifications"])
    with django_capture_on_commit_callbacks(execute=True):
        publish(None, Audience.of(users=[alice.pk]), notify=[alice])
    assert Notification.objects.filter(recipient=alice).exists()
    assert not OutboxMessage.objects.filter(kind="email").exists() and not mail.outbox


def test_sweep_sends_what_was_never_enqueued_and_retries_failures(alice, settings, monkeypatch):
    # No on-commit callbacks run here: as if the process died right after committing.
    publish(None, Audience.of(users=[alice.pk]), notify=[alice])
    message = OutboxMessage.objects.get(kind="email")
    assert services.outbox_sweep() == 0, "within the grace period the on-commit task owns it"

    calls = {"n": 0}
    original = services._SENDERS[OutboxMessage.Kind.EMAIL]

    def flaky(msg):
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("SMTP down")
        original(msg)

    monkeypatch.setitem(services._SENDERS, OutboxMessage.Kind.EMAIL, flaky)
    later = timezone.now() + timedelta(seconds=settings.OUTBOX_SWEEP_GRACE_SECONDS + 1)
    with time_machine.travel(later):
        assert services.outbox_sweep() == 1, "the feed fan-out goes; the e-mail fails"
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.PENDING and "SMTP down" in message.last_error
    with time_machine.travel(later + timedelta(hours=1)):
        assert services.outbox_sweep() == 1
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT and message.attempts == 2
    assert len(mail.outbox) == 1


def test_mark_read_api(api_as, alice, erin):
    publish(None, Audience.of(users=[alice.pk, erin.pk]), notify=[alice, erin])
    mine = Notification.objects.get(recipient=alice)
    theirs = Notification.objects.get(recipient=erin)
    client = api_as(alice)
    listing = client.get("/api/v1/notifications/").json()
    assert [n["id"] for n in listing["results"]] == [mine.pk]
    assert set(listing["results"][0]) >= {"id", "kind", "text", "url", "read", "created_at"}

    response = client.post("/api/v1/notifications/read/", {"ids": [mine.pk, theirs.pk]}, format="json")
    assert response.status_code == 200 and response.json() == {"updated": 1}
    theirs.refresh_from_db()
    assert theirs.read is False, "nobody marks someone else's notifications"

    assert client.post("/api/v1/notifications/read/", {}, format="json").status_code == 400
    assert client.post("/api/v1/notifications/read/", {"ids": ["x"]}, format="json").status_code == 400
    assert client.post("/api/v1/notifications/read/", {"all": True}, format="json").json() == {"updated": 0}


def test_notification_list_uses_a_fixed_number_of_queries(api_as, alice, django_assert_max_num_queries):
    client = api_as(alice)
    for _ in range(3):
        publish(None, Audience.of(users=[alice.pk]), notify=[alice])
    with django_assert_max_num_queries(3) as few:
        client.get("/api/v1/notifications/")
    for _ in range(30):
        publish(None, Audience.of(users=[alice.pk]), notify=[alice])
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/api/v1/notifications/")


def test_activities_since_respects_audience_and_streams(alice, erin, bob):
    ticket = ObjectRef("ticket", "7", "A ticket")
    to_alice = publish(None, Audience.of(users=[alice.pk]))
    internal = publish(None, Audience.of(groups=[AGENTS]), obj=ticket)
    public = publish(None, Audience.of(groups=[SIGNED_IN]), obj=ticket)

    ids = lambda user, streams=frozenset(): [a.pk for a in selectors.activities_since(user=user, since=0, streams=streams)]  # noqa: E731
    assert ids(alice) == [to_alice.pk], "without subscriptions only what is addressed to her"
    assert ids(erin, frozenset({"ticket:7"})) == [public.pk], "never the internal one"
    assert ids(bob, frozenset({"ticket:7"})) == [internal.pk, public.pk]
    assert ids(bob) == []


def test_live_tickets_are_single_use_and_expire(alice):
    key = services.live_ticket_issue(user=alice)
    assert services.live_ticket_redeem(key=key) == alice
    assert services.live_ticket_redeem(key=key) is None, "spent"
    stale = services.live_ticket_issue(user=alice)
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        assert services.live_ticket_redeem(key=stale) is None
    assert services.live_ticket_redeem(key="made-up") is None


def test_a_live_ticket_is_refused_once_its_account_changes_or_deactivates(alice, erin, dave):
    from accounts import services as accounts

    key = services.live_ticket_issue(user=alice)
    accounts.user_set_password(user=alice, password="a whole new password 42")
    assert services.live_ticket_redeem(key=key) is None, "a password change voids tickets issued before it"
    key = services.live_ticket_issue(user=erin)
    accounts.user_deactivate(actor=dave, user=erin)
    assert services.live_ticket_redeem(key=key) is None


def test_a_tampered_live_ticket_is_refused(alice, bob):
    from django.core import signing

    key = services.live_ticket_issue(user=alice)
    payload = signing.loads(key, salt="feeds.live-ticket")
    forged = signing.dumps({**payload, "u": bob.pk}, salt="other-salt", compress=False)
    assert services.live_ticket_redeem(key=forged) is None
    assert services.live_ticket_redeem(key=key[:-2] + ("AA" if not key.endswith("AA") else "BB")) is None


def test_issuing_a_live_ticket_and_redeeming_it_cost_no_database_write(alice, django_assert_num_queries):
    with django_assert_num_queries(0):
        key = services.live_ticket_issue(user=alice)
    with django_assert_num_queries(1):  # the account, read once; the ticket is spent in Redis
        assert services.live_ticket_redeem(key=key) == alice


def test_the_live_ticket_api_writes_nothing(api_as, alice):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert api_as(alice).post("/api/v1/live/ticket/").status_code == 200
    assert not [q["sql"] for q in queries if not q["sql"].lstrip().upper().startswith("SELECT")]
    assert len(queries) <= 1


def test_live_ticket_api_needs_authentication(api, api_as, alice):
    assert api.post("/api/v1/live/ticket/").status_code == 401
    assert len(api_as(alice).post("/api/v1/live/ticket/").json()["ticket"]) > 20
