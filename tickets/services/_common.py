"""What every part of the ticket services shares: audiences, change records and publishing."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.conf import settings
from django.contrib.postgres.search import SearchVector
from django.db import connection

from accounts.models import STAFF_ROLES, Team, User
from feeds.audience import AGENTS, SIGNED_IN, Audience
from feeds.models import Follow
from feeds.services import NotificationSpec, ObjectRef, activity_publish, follow_write
from servicedesk import hooks, markdown
from servicedesk.errors import Forbidden

from .. import sla
from ..models import NUMBER_PATTERN, OPEN_STATUSES, Comment, Priority, Service, Status, Ticket, TicketChange

# Who may move a ticket from one status to another (agents; the requester only reopens).
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.NEW: frozenset({Status.IN_PROGRESS, Status.PENDING, Status.RESOLVED}),
    Status.IN_PROGRESS: frozenset({Status.PENDING, Status.RESOLVED}),
    Status.PENDING: frozenset({Status.IN_PROGRESS, Status.RESOLVED}),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.IN_PROGRESS}),
    Status.CLOSED: frozenset(),
}


TICKET_NUMBER_RE = re.compile(rf"\b{NUMBER_PATTERN}\b")


QUEUE = ObjectRef("queue", "all", "Ticket queue")


def priority_from(impact: int, urgency: int) -> int:
    """ITIL matrix: impact and urgency 1 (high) to 3 (low) give priority 1 (critical) to 4 (low)."""
    return {2: Priority.CRITICAL, 3: Priority.HIGH, 4: Priority.MEDIUM}.get(impact + urgency, Priority.LOW)


def ticket_ref(ticket: Ticket) -> ObjectRef:
    return ObjectRef("ticket", str(ticket.pk), f"{ticket.number} {ticket.title}")


def _staff(user: User) -> bool:
    return user.role in STAFF_ROLES


def _require_agent(actor: User) -> None:
    if not _staff(actor):
        raise Forbidden("Only agents can do this.")


def ticket_audience(ticket: Ticket, *, internal: bool = False) -> Audience:
    """Who may see activity about this ticket: followers who may see it, plus agents; plus
    everyone signed in when the ticket is public and the activity is not an internal note."""
    followers = list(ticket_follows(ticket).values_list("user_id", "user__role"))
    users = []
    for user_id, role in followers:
        if role in STAFF_ROLES:
            users.append(user_id)
        elif not internal and (ticket.is_public or user_id == ticket.requester_id):
            users.append(user_id)
    groups = [AGENTS]
    if ticket.is_public and not internal:
        groups.append(SIGNED_IN)
    return Audience.of(users=users, groups=groups)


def ticket_follows(ticket: Ticket):
    return Follow.objects.filter(target_type=Follow.Type.TICKET, target_id=ticket.pk)


def _followers_to_notify(ticket: Ticket):
    """A queryset, not a list: a big incident's followers are told by workers, never loaded here."""
    return User.objects.filter(
        is_active=True, follows__target_type=Follow.Type.TICKET, follows__target_id=ticket.pk
    ).order_by("pk")


def _change(ticket: Ticket, actor: User | None, field: str, old, new) -> TicketChange:
    return TicketChange.objects.create(
        ticket=ticket, actor=actor, field=field, old="" if old is None else str(old), new="" if new is None else str(new)
    )


def _follow(ticket: Ticket, user: User, reason: str) -> bool:
    """Every way of following a ticket (logging it, assignment, a comment, "me too", a manual
    follow) goes through here and so brings its recent history into the person's feed alike."""
    _, created = follow_write(user=user, target_type=Follow.Type.TICKET, target_key=str(ticket.pk), target_id=ticket.pk, reason=reason)
    return created


def _refresh_search(ticket: Ticket) -> None:
    if connection.vendor == "postgresql":
        Ticket.objects.filter(pk=ticket.pk).update(
            search_vector=SearchVector("title", weight="A", config="english")
            + SearchVector("description", weight="B", config="english")
        )


def _apply_sla(ticket: Ticket) -> list[str]:
    ticket.response_due_at, ticket.resolution_due_at = sla.compute_dues(ticket)
    return ["response_due_at", "resolution_due_at"]


def _default_team(service: Service | None) -> Team | None:
    if service is not None and service.owner_team_id:
        return service.owner_team
    return Team.objects.filter(slug=settings.DEFAULT_TICKET_TEAM).first()


# What the requester is told about, and what other channels (chat threads) hear too.
PUBLIC_UPDATE_VERBS = frozenset({"commented", "changed_status", "reopened", "closed"})


def _publish(
    ticket: Ticket,
    *,
    actor: User | None,
    verb: str,
    summary: str,
    notify: Iterable[User] = (),
    notification: NotificationSpec | None = None,
    internal: bool = False,
    data: dict | None = None,
) -> None:
    activity_publish(
        actor=actor,
        verb=verb,
        obj=ticket_ref(ticket),
        target=QUEUE,
        audience=ticket_audience(ticket, internal=internal),
        summary=summary,
        notify=notify,
        notification=notification,
        data={"ticket": ticket.pk, "status": ticket.status, "priority": ticket.priority, **(data or {})},
    )
    if not internal and verb in PUBLIC_UPDATE_VERBS:
        hooks.ticket_public_update(ticket=ticket, actor=actor, verb=verb, summary=summary,
                                   comment_id=(data or {}).get("comment"))


def _name(user: User | None) -> str:
    return user.display_name if user else "The service desk"


def _lock(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_for_update(of=("self",)).select_related("requester", "assignee", "team", "service").get(pk=ticket.pk)


def _set_status(ticket: Ticket, actor: User | None, new: str, now) -> list[str]:
    """Move the status and everything that hangs on it (SLA pause, resolution times)."""
    old = ticket.status
    fields = ["status"]
    if old == Status.PENDING and ticket.sla_paused_at is not None:
        ticket.sla_paused_minutes += sla.paused_minutes(ticket, now)
        ticket.sla_paused_at = None
        fields += ["sla_paused_minutes", "sla_paused_at", *_apply_sla(ticket)]
    if new == Status.PENDING:
        ticket.sla_paused_at = now
        fields.append("sla_paused_at")
    if new == Status.RESOLVED:
        ticket.resolved_at = now
        ticket.resolution_count += 1
        fields += ["resolved_at", "resolution_count"]
    if new == Status.CLOSED:
        ticket.closed_at = now
        fields.append("closed_at")
    if old in (Status.RESOLVED, Status.CLOSED) and new in OPEN_STATUSES:
        ticket.resolved_at = None
        ticket.closed_at = None
        fields += ["resolved_at", "closed_at"]
    ticket.status = new
    _change(ticket, actor, "status", old, new)
    return fields


def _comment_write(ticket: Ticket, actor: User, body: str, *, internal: bool, channel: str = "web") -> Comment:
    comment = Comment.objects.create(
        ticket=ticket, author=actor, body=body, body_html=markdown.render(body), internal=internal, channel=channel
    )
    return comment
