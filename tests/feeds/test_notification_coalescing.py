"""Repeats from one actor to one person within NOTIFICATION_COALESCE_SECONDS are one notification
and at most one e-mail."""
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.utils import timezone

from feeds import services as feeds
from feeds.models import Notification, OutboxMessage
from tickets import services as tickets

pytestmark = pytest.mark.django_db


@pytest.fixture
def start_of_window():
    """Run at the start of a coalescing window, so a test's burst never straddles two windows."""
    window = settings.NOTIFICATION_COALESCE_SECONDS
    now = timezone.now().timestamp()
    start = (now // window + 1) * window + 1
    with time_machine.travel(start, tick=True) as traveller:
        yield traveller


def emails_to(user) -> list:
    return [m for m in mail.outbox if m.to == [user.email]]


def test_like_unlike_fifty_times_is_one_notification_and_one_email(alice, erin, start_of_window,
                                                                   django_capture_on_commit_callbacks):
    feeds.notification_preferences_set(actor=alice, kinds={"post.like": {"in_app": True, "email": True}})
    post = feeds.post_create(actor=alice, wall_type="user", wall_key="alice", body="Lunch at noon")
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(50):
            feeds.like_add(actor=erin, post_id=post.pk)
            feeds.like_remove(actor=erin, post_id=post.pk)
    note = Notification.objects.get(recipient=alice, kind="post.like")
    assert note.count == 50 and note.text.endswith("(50 times)") and not note.read
    assert OutboxMessage.objects.filter(kind="email").count() == 1
    assert len(emails_to(alice)) == 1


def test_fifty_mentions_in_fifty_posts_are_one_notification_and_one_email(alice, bob, start_of_window,
                                                                          django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        posts = [feeds.post_create(actor=bob, wall_type="user", wall_key="bob", body=f"hey @alice {n}") for n in range(50)]
    note = Notification.objects.get(recipient=alice)
    assert note.kind == "post.mention" and note.count == 50
    assert note.text == "Bob Okafor mentioned you on Bob Okafor (50 times)"
    assert note.url == f"/posts/{posts[-1].pk}/", "the link goes to the latest post"
    assert len(emails_to(alice)) == 1


def test_the_api_and_the_badge_show_the_count(api_as, alice, bob, start_of_window):
    for n in range(3):
        feeds.post_create(actor=bob, wall_type="user", wall_key="bob", body=f"hey @alice {n}")
    [item] = api_as(alice).get("/api/v1/notifications/").json()["results"]
    assert item["count"] == 3 and item["text"].endswith("(3 times)") and item["updated_at"] >= item["created_at"]


def test_different_actors_and_a_new_window_are_told_apart(alice, bob, erin, start_of_window,
                                                          django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        feeds.post_create(actor=bob, wall_type="user", wall_key="bob", body="hey @alice")
        feeds.post_create(actor=erin, wall_type="user", wall_key="erin", body="hey @alice")
        feeds.post_create(actor=bob, wall_type="user", wall_key="bob", body="hey again @alice")
    assert sorted(Notification.objects.filter(recipient=alice).values_list("count", flat=True)) == [1, 2]
    start_of_window.shift(timedelta(seconds=settings.NOTIFICATION_COALESCE_SECONDS))
    with django_capture_on_commit_callbacks(execute=True):
        feeds.post_create(actor=bob, wall_type="user", wall_key="bob", body="hey, later, @alice")
    assert Notification.objects.filter(recipient=alice).count() == 3
    assert len(emails_to(alice)) == 3, "one e-mail per actor per window"


def test_a_read_notification_comes_back_unread_without_another_email(alice, bob, start_of_window,
                                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        feeds.post_create(actor=bob, wall_type="user", wall_key="bob", body="hey @alice")
    note = Notification.objects.get(recipient=alice)
    feeds.notifications_mark_read(actor=alice, all_=True)
    with django_capture_on_commit_callbacks(execute=True):
        feeds.post_create(actor=bob, wall_type="user", wall_key="bob", body="hey again @alice")
    note.refresh_from_db()
    assert note.count == 2 and note.read is False
    assert Notification.objects.filter(recipient=alice).count() == 1 and len(emails_to(alice)) == 1


def test_ticket_replies_coalesce_per_ticket(alice, bob, start_of_window, django_capture_on_commit_callbacks):
    printer = tickets.ticket_create(actor=alice, kind="incident", title="Printer jams", impact=3, urgency=3)
    vpn = tickets.ticket_create(actor=alice, kind="incident", title="VPN drops", impact=3, urgency=3)
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            tickets.comment_add(actor=bob, ticket=printer, body=f"Looking {n}")
        tickets.comment_add(actor=bob, ticket=vpn, body="Looking")
    replies = Notification.objects.filter(recipient=alice, kind="ticket.reply")
    assert sorted((n.url.split("#")[0], n.count) for n in replies) == sorted(
        [(printer.get_absolute_url(), 3), (vpn.get_absolute_url(), 1)]
    )
    assert len(emails_to(alice)) == 2


def test_status_changes_are_never_merged(alice, bob, start_of_window):
    ticket = tickets.ticket_create(actor=alice, kind="incident", title="Printer jams", impact=3, urgency=3)
    tickets.ticket_update(actor=bob, ticket=ticket, status="in_progress")
    tickets.ticket_update(actor=bob, ticket=ticket, status="resolved")
    texts = list(Notification.objects.filter(recipient=alice, kind="ticket.status").order_by("id").values_list("text", flat=True))
    assert len(texts) == 2 and "in progress" in texts[0] and "resolved" in texts[1]


def test_a_pending_email_carries_the_latest_count(alice, bob, start_of_window, django_capture_on_commit_callbacks):
    """The e-mail written for the first mention is sent after the burst: it says how many."""
    alice.quiet_hours_start, alice.quiet_hours_end = None, None
    feeds.post_create(actor=bob, wall_type="user", wall_key="bob", body="hey @alice")
    feeds.post_create(actor=bob, wall_type="user", wall_key="bob", body="hey @alice, again")
    message = OutboxMessage.objects.get(kind="email")
    assert feeds.outbox_message_deliver(message_id=message.pk)
    assert len(mail.outbox) == 1 and "(2 times)" in mail.outbox[0].subject


@pytest.mark.django_db(transaction=True)
def test_two_requests_racing_on_one_burst_still_make_one_notification(alice, bob, start_of_window):
    """The second writer looks before the first has committed, finds nothing, and its insert
    meets the first one's row: it adds to that row instead of failing or duplicating."""
    import threading
    import time

    from django.db import connection, transaction

    first_written, errors = threading.Event(), []

    def first():
        try:
            with transaction.atomic():
                feeds.post_create(actor=bob, wall_type="user", wall_key="bob", body="hey @alice")
                first_written.set()
                time.sleep(1.5)  # the second writer now waits on our uncommitted row
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            first_written.set()
            connection.close()

    def second():
        try:
            first_written.wait(30)
            feeds.post_create(actor=bob, wall_type="user", wall_key="bob", body="hey again @alice")
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    note = Notification.objects.get(recipient=alice)
    assert note.count == 2
    assert OutboxMessage.objects.filter(kind="email").count() == 1


@pytest.mark.parametrize("followers", [3, 30])
def test_a_reply_folds_into_every_followers_row_in_a_fixed_number_of_writes(alice, bob, make_user, start_of_window,
                                                                           django_capture_on_commit_callbacks, followers):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    incident = tickets.ticket_create(actor=alice, kind="incident", title="VPN down", impact=2, urgency=2,
                                     visibility="public")
    people = [make_user() for _ in range(followers)]
    for person in people:
        tickets.ticket_follow(actor=person, ticket=incident)
    with django_capture_on_commit_callbacks(execute=True):
        tickets.comment_add(actor=bob, ticket=incident, body="Investigating")
    with CaptureQueriesContext(connection) as captured, django_capture_on_commit_callbacks(execute=True):
        tickets.comment_add(actor=bob, ticket=incident, body="Failover in progress")
    folds = [q for q in captured.captured_queries if q["sql"].startswith('UPDATE "feeds_notification"')]
    assert 1 <= len(folds) <= 2, len(folds)
    rows = Notification.objects.filter(recipient__in=people, kind="ticket.reply")
    assert rows.count() == followers
    assert all(row.count == 2 and row.text.endswith("(2 times)") and not row.read for row in rows)
    assert {row.activity_id for row in rows} == {rows[0].activity_id} and rows[0].updated_at > rows[0].created_at
