"""A live `resume` reads what was missed in one indexed query for activities and one for
notifications, whatever the volume (checked with EXPLAIN on a 100k-activity dataset: index scans
of the timeline's (user, activity) key, the audience's user index and the stream indexes)."""
import pytest

from feeds import selectors, services
from feeds.audience import SIGNED_IN, Audience, user_groups
from feeds.services import NotificationSpec, ObjectRef

pytestmark = pytest.mark.django_db


def _publish_missed(alice, erin, bob, *, rounds):
    wall = ObjectRef("user", "erin", "Erin")
    for n in range(rounds):
        services.activity_publish(
            actor=bob, verb="mentioned", obj=ObjectRef("user", "alice", "Alice"), audience=Audience.of(users=[alice.pk]),
            summary=f"to alice {n}", notify=[alice], notification=NotificationSpec(kind="post.mention", text=f"Bob {n}"),
        )
        services.activity_publish(actor=erin, verb="posted", obj=wall, audience=Audience.of(groups=[SIGNED_IN]), summary=f"wall {n}")
        services.activity_publish(actor=bob, verb="noted", obj=wall, audience=Audience.of(users=[bob.pk]), summary=f"bob only {n}")


@pytest.mark.parametrize("rounds", [2, 12])
def test_a_resume_costs_one_query_for_activities_and_one_for_notifications(rounds, alice, erin, bob, django_assert_num_queries):
    services.follow_create(actor=alice, target_type="user", key="erin")
    since = selectors.page_marks(alice)[0]
    _publish_missed(alice, erin, bob, rounds=rounds)
    groups = user_groups(alice)
    with django_assert_num_queries(2):
        activities = selectors.activities_since(user=alice, since=since, streams=frozenset({"user:erin"}), groups=groups)
        notifications = selectors.notifications_since(user=alice, since=0)
    summaries = [a.summary for a in activities]
    assert summaries == [s for n in range(rounds) for s in (f"to alice {n}", f"wall {n}")], "oldest first, nothing unseen"
    # (Bob's repeats coalesce into one notification.)
    assert notifications and [n.pk for n in notifications] == sorted(n.pk for n in selectors.notifications_for(alice))


def test_a_resume_stops_at_the_limit_and_continues_from_there(alice, bob):
    since = selectors.page_marks(alice)[0]
    for n in range(7):
        services.activity_publish(actor=bob, verb="mentioned", obj=ObjectRef("user", "alice", "Alice"),
                                  audience=Audience.of(users=[alice.pk]), summary=f"{n}")
    first = selectors.activities_since(user=alice, since=since, limit=4)
    rest = selectors.activities_since(user=alice, since=first[-1].pk, limit=4)
    assert [a.summary for a in first + rest] == [str(n) for n in range(7)]


@pytest.mark.parametrize("rounds", [2, 12])
def test_a_socket_without_subscriptions_resumes_through_the_compiled_query_with_the_orms_answer(
    rounds, alice, erin, bob, django_assert_num_queries
):
    services.follow_create(actor=alice, target_type="user", key="erin")
    since = selectors.page_marks(alice)[0]
    _publish_missed(alice, erin, bob, rounds=rounds)
    with django_assert_num_queries(1):
        compiled = selectors.activities_since(user=alice, since=since)
    orm = list(selectors._missed(user_id=alice.pk, since=since, limit=selectors.RESUME_LIMIT))
    assert [a.pk for a in compiled] == [a.pk for a in orm] and compiled
    assert [(a.summary, a.actor.username, a.created_at) for a in compiled] == [
        (a.summary, a.actor.username, a.created_at) for a in orm
    ], "the same rows, their actors and aware times"
    # Followed walls reach the feed through the fan-out; what is addressed comes from the audience rows.
    assert {a.summary for a in compiled} >= {f"to alice {n}" for n in range(rounds)}
    assert not [a for a in compiled if a.summary.startswith("bob only")], "nothing unseen"
    with django_assert_num_queries(1):
        assert selectors.activities_since(user=alice, since=compiled[-1].pk) == []


def test_resumed_notifications_come_through_the_compiled_queries_with_the_orms_answer(
    alice, erin, bob, django_assert_num_queries
):
    from feeds.models import Notification

    since = selectors.page_marks(alice)[0]
    _publish_missed(alice, erin, bob, rounds=3)
    services.activity_publish(
        actor=erin, verb="mentioned", obj=ObjectRef("user", "alice", "Alice"), audience=Audience.of(users=[alice.pk]),
        summary="erin to alice", notify=[alice], notification=NotificationSpec(kind="post.mention", text="Erin"),
    )
    services.activity_publish(
        actor=alice, verb="mentioned", obj=ObjectRef("user", "bob", "Bob"), audience=Audience.of(users=[bob.pk]),
        summary="alice to bob", notify=[bob], notification=NotificationSpec(kind="post.mention", text="Alice"),
    )
    mine = Notification.objects.filter(recipient=alice).order_by("pk")
    assert mine.count() >= 2
    first = mine.first()
    with django_assert_num_queries(2):
        after_activity = selectors.notifications_after_activity(user=alice, activity_id=since)
        after_note = selectors.notifications_since(user=alice, since=first.pk)
    assert [n.pk for n in after_activity] == [n.pk for n in mine.filter(activity_id__gt=since)]
    assert [n.pk for n in after_note] == [n.pk for n in mine.filter(pk__gt=first.pk)]
    assert all(n.recipient_id == alice.pk for n in after_activity + after_note), "only the person's own"
    assert [(n.text, n.created_at) for n in after_note] == [(n.text, n.created_at) for n in mine.filter(pk__gt=first.pk)]
    # Beyond what the compiled statement takes (a limit of its own), the ORM answers the same way.
    assert [n.pk for n in selectors.notifications_since(user=alice, since=0, limit=1)] == [first.pk]
