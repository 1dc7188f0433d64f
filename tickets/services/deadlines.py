"""SLA checks: flagging tickets that are about to breach or have breached."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from feeds.services import NotificationSpec

from ..models import OPEN_STATUSES, Ticket
from ._common import _publish
from .lifecycle import _team_agents


def sla_check(*, now=None) -> dict[str, int]:
    """Warn before and flag after each SLA due time, exactly once each (periodic)."""
    now = now or timezone.now()
    warn_before = timedelta(minutes=settings.SLA_WARNING_MINUTES)
    counts = {"response_warned": 0, "resolution_warned": 0, "response_breached": 0, "resolution_breached": 0}
    open_unpaused = Ticket.objects.filter(status__in=OPEN_STATUSES, sla_paused_at__isnull=True)
    checks = [
        ("response", "breached", open_unpaused.filter(first_response_at__isnull=True, response_breached_at__isnull=True, response_due_at__lte=now)),
        ("resolution", "breached", open_unpaused.filter(resolution_breached_at__isnull=True, resolution_due_at__lte=now)),
        ("response", "warned", open_unpaused.filter(first_response_at__isnull=True, response_warned_at__isnull=True, response_due_at__gt=now, response_due_at__lte=now + warn_before)),
        ("resolution", "warned", open_unpaused.filter(resolution_warned_at__isnull=True, resolution_due_at__gt=now, resolution_due_at__lte=now + warn_before)),
    ]
    for target, event, queryset in checks:
        for ticket_id in queryset.values_list("pk", flat=True)[:1000]:
            if _sla_flag(ticket_id=ticket_id, target=target, event=event, now=now):
                counts[f"{target}_{event}"] += 1
    return counts


@transaction.atomic
def _sla_flag(*, ticket_id: int, target: str, event: str, now) -> bool:
    field = f"{target}_{event}_at"
    ticket = Ticket.objects.select_for_update(skip_locked=True, of=("self",)).select_related("assignee", "team").filter(pk=ticket_id).first()
    if ticket is None or getattr(ticket, field) is not None or not ticket.is_open or ticket.sla_paused_at is not None:
        return False
    setattr(ticket, field, now)
    ticket.save(update_fields=[field])
    people = [ticket.assignee] if ticket.assignee else []
    people += [u for u in _team_agents(ticket.team) if u not in people]
    due = getattr(ticket, f"{target}_due_at")
    if event == "breached":
        text = f"SLA breached: {ticket.number} missed its {target} target"
    else:
        minutes = max(1, int((due - now).total_seconds() // 60))
        text = f"SLA warning: {ticket.number} {target} due in {minutes} min"
    _publish(
        ticket, actor=None, verb=f"sla_{event}", internal=True, summary=f"{text}: {ticket.title}", notify=people,
        notification=NotificationSpec(kind=f"sla.{event}", text=f"{text}: {ticket.title}", url=ticket.get_absolute_url()),
        data={"target": target, "due": due.isoformat() if due else None},
    )
    return True
