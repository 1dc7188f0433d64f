"""SLA due times: targets from the policy of the ticket's priority, on its business calendar."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from .business_hours import Calendar, add_business_minutes, business_minutes_between
from .models import BusinessCalendar, SLAPolicy, Ticket


def calendar_for(model: BusinessCalendar | None) -> Calendar:
    if model is None:
        return Calendar.always_open()
    return Calendar(
        tz=ZoneInfo(model.time_zone),
        working_days=frozenset(int(d) for d in model.working_days),
        day_start=model.day_start,
        day_end=model.day_end,
        holidays=frozenset(model.holidays.values_list("date", flat=True)),
    )


def policy_for(priority: int) -> SLAPolicy | None:
    return SLAPolicy.objects.select_related("calendar").filter(priority=priority).first()


def compute_dues(ticket: Ticket) -> tuple[datetime | None, datetime | None]:
    """(response due, resolution due): created_at + target + paused time, in business minutes."""
    policy = policy_for(ticket.priority)
    if policy is None:
        return None, None
    calendar = calendar_for(policy.calendar)
    paused = ticket.sla_paused_minutes
    response = add_business_minutes(calendar, ticket.created_at, policy.response_minutes + paused)
    resolution = add_business_minutes(calendar, ticket.created_at, policy.resolution_minutes + paused)
    return response, resolution


def paused_minutes(ticket: Ticket, until: datetime) -> float:
    """Business minutes between the start of the current pause and `until`."""
    if ticket.sla_paused_at is None:
        return 0.0
    policy = policy_for(ticket.priority)
    calendar = calendar_for(policy.calendar if policy else None)
    return business_minutes_between(calendar, ticket.sla_paused_at, until)
