"""The catalogue, and creating, changing, reopening and closing tickets."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import STAFF_ROLES, Team, User
from feeds.models import Follow
from feeds.services import NotificationSpec
from servicedesk import hooks, markdown, ratelimit
from servicedesk.errors import ApplicationError, Forbidden
from servicedesk.text import one_line

from ..models import OPEN_STATUSES, Channel, Kind, Priority, Service, Status, Ticket, Visibility
from ..selectors import can_see
from ._common import (
    TRANSITIONS,
    _apply_sla,
    _change,
    _comment_write,
    _default_team,
    _follow,
    _followers_to_notify,
    _lock,
    _name,
    _publish,
    _refresh_search,
    _require_agent,
    _set_status,
    _staff,
    priority_from,
    ticket_audience,
    ticket_follows,
)


@transaction.atomic
def service_create(*, name: str, description: str = "", owner_team: Team | None = None, confidential: bool = False) -> Service:
    service, _ = Service.objects.get_or_create(
        slug=slugify(name)[:150],
        defaults={"name": name, "description": description, "owner_team": owner_team, "confidential": confidential},
    )
    return service


@transaction.atomic
def ticket_create(
    *,
    actor: User,
    kind: str,
    title: str,
    description: str = "",
    impact: int = 3,
    urgency: int = 3,
    visibility: str = Visibility.PRIVATE,
    service: Service | None = None,
    requester: User | None = None,
    team: Team | None = None,
    channel: str = Channel.WEB,
    desk_written: bool = False,
) -> Ticket:
    errors: dict[str, list[str]] = {}
    if kind not in Kind.values:
        errors["kind"] = [f"Choose one of {', '.join(Kind.values)}."]
    if not title or not title.strip():
        errors["title"] = ["Give the ticket a title."]
    elif len(title) > 200:
        errors["title"] = ["Keep the title under 200 characters."]
    for field, value in (("impact", impact), ("urgency", urgency)):
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 3:
            errors[field] = ["Choose 1 (high), 2 (medium) or 3 (low)."]
    if visibility not in Visibility.values:
        errors["visibility"] = ["Choose private or public."]
    if channel not in Channel.values:
        errors["channel"] = ["Unknown channel."]
    if errors:
        raise ApplicationError("The ticket could not be logged.", errors=errors)
    if kind == Kind.PROBLEM and not _staff(actor):
        raise Forbidden("Only agents log problems.")
    if requester is not None and requester != actor and not _staff(actor):
        raise Forbidden("Only agents log tickets for someone else.")
    requester = requester or actor
    ratelimit.consume(actor=actor, action="ticket")

    ticket = Ticket(
        kind=kind,
        title=one_line(title),
        description=description,
        description_html=markdown.render(description),
        requester=requester,
        service=service,
        team=team or _default_team(service),
        impact=impact,
        urgency=urgency,
        priority=priority_from(impact, urgency),
        visibility=visibility,
        channel=channel,
    )
    ticket.save()
    _apply_sla(ticket)
    ticket.save(update_fields=["response_due_at", "resolution_due_at"])
    _refresh_search(ticket)
    _change(ticket, actor, "status", None, ticket.status)
    if not desk_written:  # the desk's own reports (a security incident's sign-in table) are not people's writing
        hooks.text_written(author=actor, text=ticket.title, obj=ticket, field="title")
        if description.strip():
            hooks.text_written(author=actor, text=description, obj=ticket, field="description")
    _follow(ticket, requester, Follow.Reason.REQUESTER)
    if actor != requester:
        _follow(ticket, actor, Follow.Reason.COMMENTER)
    team_members = _team_agents(ticket.team)
    _publish(
        ticket,
        actor=actor,
        verb="opened",
        summary=f"{_name(actor)} logged {ticket.number}: {ticket.title}",
        notify=team_members if ticket.priority == Priority.CRITICAL else (),
        notification=NotificationSpec(
            kind="ticket.critical", text=f"Critical {ticket.get_kind_display().lower()} {ticket.number}: {ticket.title}",
            url=ticket.get_absolute_url(),
        ),
    )
    hooks.ticket_opened(ticket=ticket, actor=actor)
    return ticket


def _team_agents(team: Team | None) -> list[User]:
    if team is None:
        return []
    return list(User.objects.filter(team=team, role__in=STAFF_ROLES, is_active=True))


@transaction.atomic
def ticket_update(
    *,
    actor: User,
    ticket: Ticket,
    status: str | None = None,
    assignee: User | None | type(...) = ...,
    priority: int | None = None,
    team: Team | None | type(...) = ...,
    visibility: str | None = None,
    service: Service | None | type(...) = ...,
    kind: str | None = None,
) -> Ticket:
    """An agent changes status, assignee, priority, team, service or type (incident or request).
    `...` means "leave as is"."""
    _require_agent(actor)
    ticket = _lock(ticket)
    old_status = ticket.status
    now = timezone.now()
    fields: list[str] = []
    notify: list[User] = []
    summaries: list[str] = []

    if status is not None and status != ticket.status:
        if status not in Status.values:
            raise ApplicationError("Unknown status.", errors={"status": [f"Choose one of {', '.join(Status.values)}."]})
        if status not in TRANSITIONS[ticket.status]:
            raise ApplicationError(
                f"A ticket cannot go from {ticket.get_status_display().lower()} to {Status(status).label.lower()}.",
                errors={"status": [f"Allowed next: {', '.join(sorted(TRANSITIONS[ticket.status])) or 'none'}."]},
            )
        fields += _set_status(ticket, actor, status, now)
        summaries.append(f"status → {ticket.get_status_display()}")
    if assignee is not ... and assignee != ticket.assignee:
        if assignee is not None and (assignee.role not in STAFF_ROLES or not assignee.is_active):
            raise ApplicationError("Only agents can be assigned.", errors={"assignee": ["Choose an active agent."]})
        _change(ticket, actor, "assignee", ticket.assignee.username if ticket.assignee else None,
                assignee.username if assignee else None)
        ticket.assignee = assignee
        fields.append("assignee")
        if assignee is not None:
            _follow(ticket, assignee, Follow.Reason.ASSIGNEE)
            summaries.append(f"assigned to {assignee.display_name}")
            if assignee != actor:
                notify.append(assignee)
        else:
            summaries.append("unassigned")
    if priority is not None and priority != ticket.priority:
        if priority not in Priority.values:
            raise ApplicationError("Unknown priority.", errors={"priority": ["Choose 1 (critical) to 4 (low)."]})
        _change(ticket, actor, "priority", ticket.priority, priority)
        ticket.priority = priority
        ticket.priority_overridden = True
        fields += ["priority", "priority_overridden", *_apply_sla(ticket)]
        summaries.append(f"priority → P{priority}")
    if team is not ... and team != ticket.team:
        _change(ticket, actor, "team", ticket.team.name if ticket.team else None, team.name if team else None)
        ticket.team = team
        fields.append("team")
        summaries.append(f"team → {team.name if team else 'none'}")
    if service is not ... and service != ticket.service:
        if service is not None and not service.active:
            raise ApplicationError("That service is retired.", errors={"service": ["Choose an active service."]})
        _change(ticket, actor, "service", ticket.service.name if ticket.service else None, service.name if service else None)
        ticket.service = service
        fields.append("service")
        summaries.append(f"service → {service.name if service else 'none'}")
    if kind is not None and kind != ticket.kind:
        if kind not in (Kind.INCIDENT, Kind.REQUEST) or ticket.kind == Kind.PROBLEM:
            raise ApplicationError(
                "Only incidents and requests change type.", errors={"kind": ["Choose incident or request."]}
            )
        if ticket.problem_id:
            raise ApplicationError(
                f"Unlink it from {ticket.problem_number} first: only incidents belong to a problem.",
                errors={"kind": ["The ticket is linked to a problem."]},
            )
        old_number = ticket.number
        _change(ticket, actor, "kind", ticket.kind, kind)
        ticket.kind = kind
        fields.append("kind")
        summaries.append(f"now a {ticket.get_kind_display().lower()} ({old_number} → {ticket.number})")

    narrowed = False
    if visibility is not None and visibility != ticket.visibility:
        if visibility not in Visibility.values:
            raise ApplicationError("Unknown visibility.", errors={"visibility": ["Choose private or public."]})
        _change(ticket, actor, "visibility", ticket.visibility, visibility)
        narrowed = visibility == Visibility.PRIVATE
        ticket.visibility = visibility
        fields.append("visibility")
        summaries.append(f"now {visibility}")
        if narrowed:
            # People who could see it only because it was public stop following it.
            ticket_follows(ticket).exclude(user_id=ticket.requester_id).exclude(user__role__in=STAFF_ROLES).delete()

    if not fields:
        return ticket
    ticket.save(update_fields=sorted(set(fields)) + ["updated_at"])
    if ticket.status == Status.RESOLVED and old_status != Status.RESOLVED:
        hooks.ticket_resolved(ticket=ticket, actor=actor)
    elif old_status in (Status.RESOLVED, Status.CLOSED) and ticket.status in OPEN_STATUSES:
        hooks.ticket_reopened(ticket=ticket, actor=actor)
    if "status" in fields and ticket.status != old_status:
        hooks.ticket_status_changed(ticket=ticket, actor=actor, old_status=old_status)
    if narrowed:
        from feeds.services import audience_restrict

        audience_restrict(stream=f"ticket:{ticket.pk}", allowed=ticket_audience(ticket))
    summary = f"{_name(actor)} changed {ticket.number}: " + ", ".join(summaries)
    if "status" in fields:
        # The status matters to everyone following; the assignment only to the new assignee.
        _publish(
            ticket, actor=actor, verb="changed_status", summary=summary, notify=_followers_to_notify(ticket),
            notification=NotificationSpec(
                kind="ticket.status", text=f"{ticket.number} is now {ticket.get_status_display().lower()}: {ticket.title}",
                url=ticket.get_absolute_url(),
            ),
        )
        if notify:
            _notify_assigned(ticket, actor, notify)
    elif notify:
        _notify_assigned(ticket, actor, notify, summary=summary)
    else:
        _publish(ticket, actor=actor, verb="updated", summary=summary)
    return ticket


def _notify_assigned(ticket: Ticket, actor: User, people: list[User], summary: str | None = None) -> None:
    _publish(
        ticket, actor=actor, verb="assigned", summary=summary or f"{_name(actor)} assigned {ticket.number}", notify=people,
        notification=NotificationSpec(
            kind="ticket.assigned", text=f"{_name(actor)} assigned {ticket.number} to you: {ticket.title}",
            url=ticket.get_absolute_url(),
        ),
    )


@transaction.atomic
def ticket_reopen(*, actor: User, ticket: Ticket, reason: str = "") -> Ticket:
    """The requester (within the reopen window) or an agent reopens a resolved ticket."""
    ticket = _lock(ticket)
    if not can_see(actor, ticket):
        raise ApplicationError("Not found.", status=404)
    if ticket.status != Status.RESOLVED:
        raise ApplicationError("Only a resolved ticket can be reopened.")
    if not _staff(actor):
        if actor != ticket.requester:
            raise Forbidden("Only the requester can reopen this ticket.")
        window = timedelta(days=settings.TICKET_REOPEN_DAYS)
        if ticket.resolved_at and timezone.now() - ticket.resolved_at > window:
            raise ApplicationError(f"Tickets can be reopened within {settings.TICKET_REOPEN_DAYS} days of resolution.")
    fields = _set_status(ticket, actor, Status.IN_PROGRESS, timezone.now())
    ticket.save(update_fields=sorted(set(fields)) + ["updated_at"])
    hooks.ticket_reopened(ticket=ticket, actor=actor)
    hooks.ticket_status_changed(ticket=ticket, actor=actor, old_status=Status.RESOLVED)
    if reason.strip():
        _comment_write(ticket, actor, reason, internal=False)
    _publish(
        ticket, actor=actor, verb="reopened", summary=f"{_name(actor)} reopened {ticket.number}",
        notify=_followers_to_notify(ticket),
        notification=NotificationSpec(kind="ticket.status", text=f"{ticket.number} was reopened: {ticket.title}",
                                      url=ticket.get_absolute_url()),
    )
    return ticket


@transaction.atomic
def ticket_close_stale(*, now=None) -> int:
    """Close tickets resolved longer ago than the reopen window (periodic)."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.TICKET_REOPEN_DAYS)
    closed = 0
    for ticket in Ticket.objects.select_for_update(skip_locked=True).filter(status=Status.RESOLVED, resolved_at__lt=cutoff)[:500]:
        fields = _set_status(ticket, None, Status.CLOSED, now)
        ticket.save(update_fields=sorted(set(fields)) + ["updated_at"])
        _publish(ticket, actor=None, verb="closed", summary=f"{ticket.number} was closed automatically")
        hooks.ticket_status_changed(ticket=ticket, actor=None, old_status=Status.RESOLVED)
        closed += 1
    return closed
