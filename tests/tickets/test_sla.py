"""SLA due times over business hours, the pending pause, and breach/warning events (frozen clock)."""
from datetime import datetime, time, timedelta, timezone as dt_timezone

import pytest
import time_machine

from feeds.models import Activity, Notification
from tickets import services
from tickets.models import BusinessCalendar, Holiday, SLAPolicy

pytestmark = pytest.mark.django_db
UTC = dt_timezone.utc


@pytest.fixture
def paris_hours(db):
    calendar = BusinessCalendar.objects.create(
        name="Paris office", time_zone="Europe/Paris", working_days=[0, 1, 2, 3, 4], day_start=time(9), day_end=time(17)
    )
    SLAPolicy.objects.filter(priority=3).update(response_minutes=120, resolution_minutes=16 * 60, calendar=calendar)
    return calendar


def log(actor, when):
    with time_machine.travel(when, tick=False):
        return services.ticket_create(actor=actor, kind="incident", title="Slow mail", impact=2, urgency=2)


def test_due_times_follow_business_hours_and_skip_the_weekend(alice, paris_hours):
    # Friday 15:00 Paris (14:00 UTC, winter time): 2 business hours left on Friday.
    ticket = log(alice, datetime(2026, 1, 16, 14, 0, tzinfo=UTC))
    assert ticket.priority == 3
    assert ticket.response_due_at == datetime(2026, 1, 16, 16, 0, tzinfo=UTC)  # Friday 17:00 Paris
    # 16 business hours: 2 on Friday, 8 on Monday, 6 on Tuesday -> Tuesday 15:00 Paris.
    assert ticket.resolution_due_at == datetime(2026, 1, 20, 14, 0, tzinfo=UTC)


def test_holidays_are_not_business_time(alice, paris_hours):
    Holiday.objects.create(calendar=paris_hours, date=datetime(2026, 1, 19).date(), name="Office closed")
    ticket = log(alice, datetime(2026, 1, 16, 14, 0, tzinfo=UTC))
    assert ticket.resolution_due_at == datetime(2026, 1, 21, 14, 0, tzinfo=UTC)


def test_critical_tickets_run_around_the_clock(alice):
    start = datetime(2026, 1, 17, 23, 0, tzinfo=UTC)  # a Saturday night
    with time_machine.travel(start, tick=False):
        ticket = services.ticket_create(actor=alice, kind="incident", title="Everything down", impact=1, urgency=1)
    assert ticket.priority == 1
    assert ticket.response_due_at == start + timedelta(minutes=30)
    assert ticket.resolution_due_at == start + timedelta(hours=4)


def test_pending_pauses_the_clock(alice, bob, paris_hours):
    ticket = log(alice, datetime(2026, 1, 12, 8, 0, tzinfo=UTC))  # Monday 09:00 Paris
    original = ticket.resolution_due_at
    with time_machine.travel(datetime(2026, 1, 12, 10, 0, tzinfo=UTC), tick=False):
        services.ticket_update(actor=bob, ticket=ticket, status="pending")
    # Pending from Monday 11:00 to Tuesday 11:00 Paris: 8 business hours paused.
    with time_machine.travel(datetime(2026, 1, 13, 10, 0, tzinfo=UTC), tick=False):
        ticket = services.ticket_update(actor=bob, ticket=ticket, status="in_progress")
    assert ticket.sla_paused_minutes == pytest.approx(8 * 60)
    assert ticket.resolution_due_at == original + timedelta(days=1)


def test_no_breach_while_pending(alice, bob, paris_hours):
    ticket = log(alice, datetime(2026, 1, 12, 8, 0, tzinfo=UTC))
    with time_machine.travel(datetime(2026, 1, 12, 8, 30, tzinfo=UTC), tick=False):
        services.ticket_update(actor=bob, ticket=ticket, status="pending")
    assert services.sla_check(now=datetime(2026, 1, 30, tzinfo=UTC))["resolution_breached"] == 0


def test_a_breach_produces_exactly_one_activity_and_notification(alice, bob, paris_hours):
    ticket = log(alice, datetime(2026, 1, 12, 8, 0, tzinfo=UTC))
    services.ticket_update(actor=bob, ticket=ticket, assignee=bob)
    after_response_due = ticket.response_due_at + timedelta(minutes=1)
    for _ in range(3):
        services.sla_check(now=after_response_due)
    breaches = Activity.objects.filter(verb="sla_breached", object_key=str(ticket.pk))
    assert breaches.count() == 1
    notes = Notification.objects.filter(kind="sla.breached")
    assert list(notes.values_list("recipient__username", flat=True)) == ["bob"]
    assert not Notification.objects.filter(recipient=alice, kind__startswith="sla.").exists(), "SLA talk is internal"


def test_a_warning_comes_once_before_the_due_time(alice, bob, paris_hours, settings):
    ticket = log(alice, datetime(2026, 1, 12, 8, 0, tzinfo=UTC))
    soon = ticket.response_due_at - timedelta(minutes=settings.SLA_WARNING_MINUTES - 5)
    assert services.sla_check(now=soon)["response_warned"] == 1
    assert services.sla_check(now=soon)["response_warned"] == 0
    assert Activity.objects.filter(verb="sla_warned").count() == 1


def test_first_response_stops_the_response_clock(alice, bob, paris_hours):
    ticket = log(alice, datetime(2026, 1, 12, 8, 0, tzinfo=UTC))
    services.comment_add(actor=bob, ticket=ticket, body="On it")
    counts = services.sla_check(now=ticket.response_due_at + timedelta(hours=1))
    assert counts["response_breached"] == 0


def test_priority_change_recomputes_due_times(alice, bob, paris_hours):
    ticket = log(alice, datetime(2026, 1, 12, 8, 0, tzinfo=UTC))
    ticket = services.ticket_update(actor=bob, ticket=ticket, priority=1)
    assert ticket.resolution_due_at == datetime(2026, 1, 12, 12, 0, tzinfo=UTC)
