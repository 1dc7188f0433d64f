"""What every part of the policies services shares: the audit trail and who may act."""

from __future__ import annotations

from accounts.models import User
from servicedesk.errors import Forbidden

from .. import engine, selectors
from ..models import AuditEntry, Channel, EventKind, OutboundPost, OutboundStatus

STATUS_FOR = {engine.ALLOWED: OutboundStatus.QUEUED, engine.HELD: OutboundStatus.PENDING_REVIEW, engine.BLOCKED: OutboundStatus.BLOCKED}


# Incidents at this priority or higher (1 = critical) are announced on the status channels.
MAJOR_PRIORITY = 2


def _audit(action: str, *, actor: User | None = None, channel: Channel | None = None, post: OutboundPost | None = None,
           status: str = "", reasons=(), note: str = "", text: str = "") -> AuditEntry:
    return AuditEntry.objects.create(
        action=action, actor=actor, channel=channel or (post.channel if post else None), post=post,
        status=status or (post.status if post else ""), reasons=list(reasons), note=note[:2000], text=text,
    )


def _require_admin(actor: User) -> None:
    if not selectors.is_admin(actor):
        raise Forbidden("Only admins manage channels and policies.")


def _require_reviewer(actor: User) -> None:
    if not selectors.can_review(actor):
        raise Forbidden("Only admins and managers review outbound posts.")


def _str_list(value, field: str, errors: dict) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [line for line in value.splitlines()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        errors[field] = ["Give a list of strings."]
        return []
    return [v.strip() for v in value if v.strip()]


# What a person hears on their chosen channel, per change on their ticket.
# Resolved is a status change like the others; `ticket_resolved` is the status channels' event.
PERSONAL_EVENTS = {"replied": EventKind.TICKET_REPLIED, "closed": EventKind.TICKET_CLOSED}


# Events that announce a public incident to everyone: only while the ticket is still public.
ANNOUNCEMENTS = (EventKind.MAJOR_INCIDENT_OPENED, EventKind.TICKET_RESOLVED)
