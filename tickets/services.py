"""Every write to tickets. Each service changes the ticket, writes the audit rows, publishes the
activity with its audience and the notifications, all in one transaction."""
from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from datetime import timedelta

import filetype
from django.conf import settings
from django.contrib.postgres.search import SearchVector
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import STAFF_ROLES, Team, User
from feeds.audience import AGENTS, SIGNED_IN, Audience
from feeds.fanout import admitted_people
from feeds.models import Follow
from feeds.services import NotificationSpec, ObjectRef, activity_publish, follow_write
from servicedesk import hooks, markdown, ratelimit
from servicedesk.errors import ApplicationError, Forbidden
from servicedesk.text import one_line

from . import sla
from .models import (
    NUMBER_PATTERN,
    OPEN_STATUSES,
    Attachment,
    Channel,
    CannedResponse,
    Comment,
    Deflection,
    Kind,
    MeToo,
    Priority,
    Rating,
    SavedView,
    Service,
    Status,
    Ticket,
    TicketChange,
    Visibility,
    ticket_number,
)
from .selectors import can_see

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


# --- catalogue ---------------------------------------------------------------------------------


@transaction.atomic
def service_create(*, name: str, description: str = "", owner_team: Team | None = None, confidential: bool = False) -> Service:
    service, _ = Service.objects.get_or_create(
        slug=slugify(name)[:150],
        defaults={"name": name, "description": description, "owner_team": owner_team, "confidential": confidential},
    )
    return service


# --- creating and changing tickets -------------------------------------------------------------


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


# --- conversation ------------------------------------------------------------------------------


def _comment_write(ticket: Ticket, actor: User, body: str, *, internal: bool, channel: str = "web") -> Comment:
    comment = Comment.objects.create(
        ticket=ticket, author=actor, body=body, body_html=markdown.render(body), internal=internal, channel=channel
    )
    return comment


@transaction.atomic
def comment_add(*, actor: User, ticket: Ticket, body: str, internal: bool = False, attachments: Iterable[Attachment] = (),
                channel: str = "web") -> Comment:
    if not body or not body.strip():
        raise ApplicationError("Write something first.", errors={"body": ["This field may not be blank."]})
    if len(body) > 20_000:
        raise ApplicationError("That is too long.", errors={"body": ["Keep it under 20,000 characters."]})
    ticket = _lock(ticket)
    if not can_see(actor, ticket):
        raise ApplicationError("Not found.", status=404)
    if internal and not _staff(actor):
        raise Forbidden("Only agents can write internal notes.")
    if ticket.status == Status.CLOSED:
        raise ApplicationError("This ticket is closed. Log a new one, or ask an agent to reopen it.")
    ratelimit.consume(actor=actor, action="comment")

    if channel not in Channel.values:
        raise ApplicationError("Unknown channel.", errors={"channel": ["Unknown channel."]})
    comment = _comment_write(ticket, actor, body, internal=internal, channel=channel)
    for attachment in attachments:
        if attachment.ticket_id != ticket.pk or attachment.comment_id is not None:
            raise ApplicationError("That attachment belongs elsewhere.", errors={"attachments": ["Unknown attachment."]})
        attachment.comment = comment
        attachment.save(update_fields=["comment"])
    fields = ["updated_at"]
    if not internal and _staff(actor) and actor != ticket.requester and ticket.first_response_at is None:
        ticket.first_response_at = comment.created_at
        fields.append("first_response_at")
    if not internal and actor == ticket.requester and ticket.status == Status.PENDING:
        # The requester answered what we were waiting for: the clock runs again.
        fields += _set_status(ticket, actor, Status.IN_PROGRESS, timezone.now())
    ticket.save(update_fields=sorted(set(fields)))
    _follow(ticket, actor, Follow.Reason.COMMENTER)

    verb = "noted" if internal else "commented"
    what = "added an internal note to" if internal else "replied on"
    excerpt = body.strip().splitlines()[0][:140]
    _publish(
        ticket, actor=actor, verb=verb, internal=internal,
        summary=f"{_name(actor)} {what} {ticket.number}: {excerpt}",
        notify=_followers_to_notify(ticket),
        notification=NotificationSpec(
            kind="ticket.note" if internal else "ticket.reply",
            text=f"{_name(actor)} {what} {ticket.number}: {ticket.title}",
            url=f"{ticket.get_absolute_url()}#comment-{comment.pk}",
        ),
        data={"comment": comment.pk},
    )
    _notify_mentions(ticket, actor, comment)
    hooks.text_written(author=actor, text=body, obj=comment, field="body")
    if not internal:
        hooks.ticket_replied(ticket=ticket, comment=comment, actor=actor)
    return comment


def _notify_mentions(ticket: Ticket, actor: User, comment: Comment) -> None:
    """Followers of a ticket mentioned by number hear of it, if they may see where it was said."""
    mentioned_ids = {int(num) for _, num in TICKET_NUMBER_RE.findall(comment.body)} - {ticket.pk}
    if not mentioned_ids:
        return
    source_audience = ticket_audience(ticket, internal=comment.internal)
    for other in Ticket.objects.filter(pk__in=sorted(mentioned_ids)):
        if ticket_number(other.kind, other.pk) not in comment.body:
            continue  # the number's prefix names another kind of ticket
        followers = [
            f.user for f in ticket_follows(other).select_related("user") if can_see(f.user, ticket) and can_see(f.user, other)
        ]
        people = admitted_people(source_audience, followers)
        activity_publish(
            actor=actor, verb="mentioned", obj=ticket_ref(other), target=ticket_ref(ticket),
            audience=Audience.of(users=[p.pk for p in people], groups=[AGENTS]),
            summary=f"{_name(actor)} mentioned {other.number} on {ticket.number}",
            notify=people,
            notification=NotificationSpec(
                kind="ticket.mentioned", text=f"{other.number} was mentioned on {ticket.number}: {ticket.title}",
                url=f"{ticket.get_absolute_url()}#comment-{comment.pk}",
            ),
        )


ALLOWED_UPLOADS = {
    "image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "application/zip",
    "text/plain", "text/csv",
}
OFFICE_EXTENSIONS = {".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                     ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation"}


def _sniff(head: bytes, filename: str) -> str | None:
    """The type the content really has (not what its name claims), if we accept it."""
    kind = filetype.guess(head)
    if kind is not None:
        mime = kind.mime
        if mime == "application/zip":
            ext = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
            return OFFICE_EXTENSIONS.get(ext, mime)
        if mime in OFFICE_EXTENSIONS.values():
            return mime
        return mime if mime in ALLOWED_UPLOADS else None
    if b"\x00" in head:
        return None
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # a multi-byte character cut at the end of the sample is fine
            return None
    return "text/csv" if filename.lower().endswith(".csv") else "text/plain"


def reply_add(*, actor: User, ticket: Ticket, body: str, internal: bool = False,
              uploads: Iterable[UploadedFile] = ()) -> Comment:
    """A reply with its files, all or nothing. Files are written to storage before the database
    commits, so those of a refused reply are deleted again (call this outside an outer transaction)."""
    written: list[Attachment] = []
    try:
        with transaction.atomic():
            for upload in uploads:
                written.append(attachment_add(actor=actor, ticket=ticket, upload=upload))
            return comment_add(actor=actor, ticket=ticket, body=body, internal=internal, attachments=written)
    except BaseException:
        for attachment in written:
            attachment.file.storage.delete(attachment.file.name)
        raise


@transaction.atomic
def attachment_add(*, actor: User, ticket: Ticket, upload: UploadedFile) -> Attachment:
    if not can_see(actor, ticket):
        raise ApplicationError("Not found.", status=404)
    if ticket.status == Status.CLOSED:
        raise ApplicationError("This ticket is closed.")
    if upload.size > settings.ATTACHMENT_MAX_BYTES:
        limit = settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)
        raise ApplicationError("That file is too large.", errors={"file": [f"Files can be up to {limit} MB."]})
    if upload.size == 0:
        raise ApplicationError("That file is empty.", errors={"file": ["The file is empty."]})
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    filename = (upload.name or "file").replace("/", "_").replace("\\", "_")[-200:]
    content_type = _sniff(head, filename)
    if content_type is None:
        raise ApplicationError(
            "That kind of file is not accepted.",
            errors={"file": ["Attach images, PDFs, text, CSV, Office documents or ZIP archives."]},
        )
    attachment = Attachment(
        ticket=ticket, uploaded_by=actor, token=secrets.token_urlsafe(24), filename=filename,
        content_type=content_type, size=upload.size,
    )
    attachment.file.save(attachment.token, upload, save=False)
    attachment.save()
    return attachment


def attachments_unclaimed_purge(*, now=None) -> int:
    """Uploads never attached to a comment within ATTACHMENT_UNCLAIMED_HOURS (an API client that
    uploaded and gave up): their rows go, and their files once that has committed."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.ATTACHMENT_UNCLAIMED_HOURS)
    with transaction.atomic():
        unclaimed = list(
            Attachment.objects.select_for_update(skip_locked=True).filter(comment__isnull=True, created_at__lt=cutoff)[:500]
        )
        if not unclaimed:
            return 0
        files = [(a.file.storage, a.file.name) for a in unclaimed]
        Attachment.objects.filter(pk__in=[a.pk for a in unclaimed]).delete()

        def delete_files():
            for storage, name in files:
                storage.delete(name)

        transaction.on_commit(delete_files)
    return len(unclaimed)


# --- following and "me too" --------------------------------------------------------------------


@transaction.atomic
def ticket_follow(*, actor: User, ticket: Ticket) -> bool:
    if not can_see(actor, ticket):
        raise ApplicationError("Not found.", status=404)
    ratelimit.consume(actor=actor, action="follow")
    return _follow(ticket, actor, Follow.Reason.MANUAL)


@transaction.atomic
def ticket_unfollow(*, actor: User, ticket: Ticket) -> bool:
    if not can_see(actor, ticket):
        raise ApplicationError("Not found.", status=404)
    deleted, _ = ticket_follows(ticket).filter(user=actor).delete()
    if deleted:
        from feeds.live import recheck_on_commit

        recheck_on_commit(user_ids=[actor.pk])
    return bool(deleted)


@transaction.atomic
def _me_too_sentence(actor: User, ticket: Ticket) -> str:
    """"Alice Martin is affected by INC-000042 VPN disconnects, with 12 others"."""
    others = max(0, (ticket.me_too_count or 0) - 1)
    tail = f", with {others} other{'s' if others != 1 else ''}" if others else ""
    return f"{_name(actor)} is affected by {ticket.number} {ticket.title}{tail}"


def ticket_me_too(*, actor: User, ticket: Ticket) -> Ticket:
    """"Me too" on a public incident: counted once per person, who then follows it."""
    if not can_see(actor, ticket):
        raise ApplicationError("Not found.", status=404)
    if ticket.kind != Kind.INCIDENT or not ticket.is_public:
        raise ApplicationError("Only public incidents take a \"me too\".")
    if actor == ticket.requester:
        raise ApplicationError("You logged this incident; you are already on it.")
    if not ticket.is_open:
        raise ApplicationError("This incident is no longer open.")
    try:
        with transaction.atomic():
            MeToo.objects.create(ticket=ticket, user=actor)
    except IntegrityError:
        return Ticket.objects.get(pk=ticket.pk)
    Ticket.objects.filter(pk=ticket.pk).update(me_too_count=F("me_too_count") + 1)
    _follow(ticket, actor, Follow.Reason.ME_TOO)
    ticket.refresh_from_db()
    _publish(ticket, actor=actor, verb="me_too", summary=_me_too_sentence(actor, ticket))
    return ticket


@transaction.atomic
def ticket_me_too_withdraw(*, actor: User, ticket: Ticket) -> Ticket:
    if not can_see(actor, ticket):
        raise ApplicationError("Not found.", status=404)
    deleted, _ = MeToo.objects.filter(ticket=ticket, user=actor).delete()
    if deleted:
        Ticket.objects.filter(pk=ticket.pk, me_too_count__gt=0).update(me_too_count=F("me_too_count") - 1)
    ticket.refresh_from_db()
    return ticket


# --- problems ----------------------------------------------------------------------------------


@transaction.atomic
def problem_link(*, actor: User, problem: Ticket, incident: Ticket) -> Ticket:
    _require_agent(actor)
    if problem.kind != Kind.PROBLEM:
        raise ApplicationError("Link incidents to a problem.", errors={"problem": ["That ticket is not a problem."]})
    if incident.kind != Kind.INCIDENT:
        raise ApplicationError("Only incidents are linked to problems.", errors={"incident": ["That ticket is not an incident."]})
    incident = _lock(incident)
    if incident.problem_id == problem.pk:
        return incident
    _change(incident, actor, "problem", ticket_number(Kind.PROBLEM, incident.problem_id) if incident.problem_id else None, problem.number)
    incident.problem = problem
    incident.save(update_fields=["problem", "updated_at"])
    _publish(incident, actor=actor, verb="linked", summary=f"{_name(actor)} linked {incident.number} to {problem.number}")
    return incident


@transaction.atomic
def problem_unlink(*, actor: User, problem: Ticket, incident: Ticket) -> Ticket:
    """Take an incident off a problem (it was linked by mistake)."""
    _require_agent(actor)
    incident = _lock(incident)
    if incident.problem_id != problem.pk:
        raise ApplicationError(f"{incident.number} is not linked to {problem.number}.",
                               errors={"incident": ["Not linked to this problem."]})
    _change(incident, actor, "problem", problem.number, None)
    incident.problem = None
    incident.save(update_fields=["problem", "updated_at"])
    _publish(incident, actor=actor, verb="unlinked", summary=f"{_name(actor)} unlinked {incident.number} from {problem.number}")
    return incident


@transaction.atomic
def problem_create_from(*, actor: User, incident: Ticket, title: str = "", description: str = "") -> Ticket:
    """Open a problem for an incident's root cause, with the incident linked to it."""
    _require_agent(actor)
    if incident.kind != Kind.INCIDENT:
        raise ApplicationError("Only incidents are linked to problems.", errors={"incident": ["That ticket is not an incident."]})
    problem = ticket_create(
        actor=actor, kind=Kind.PROBLEM, title=(title or "").strip() or incident.title,
        description=description or f"Root cause of {incident.number}.", impact=incident.impact, urgency=incident.urgency,
        service=incident.service, team=incident.team,
    )
    problem_link(actor=actor, problem=problem, incident=incident)
    return problem


@transaction.atomic
def problem_resolve(*, actor: User, problem: Ticket, note: str, resolve_incidents: bool = True) -> list[Ticket]:
    """Resolve a problem and, in the same step, its open incidents with one public note."""
    _require_agent(actor)
    if problem.kind != Kind.PROBLEM:
        raise ApplicationError("That ticket is not a problem.")
    if not note.strip():
        raise ApplicationError("Say what fixed it.", errors={"note": ["This field may not be blank."]})
    resolved = []
    targets = [problem]
    if resolve_incidents:
        targets += list(problem.incidents.filter(status__in=OPEN_STATUSES).order_by("pk"))
    for ticket in targets:
        if ticket.status not in OPEN_STATUSES:
            continue
        comment_add(actor=actor, ticket=ticket, body=note, internal=False)
        resolved.append(ticket_update(actor=actor, ticket=ticket, status=Status.RESOLVED))
    return resolved


# --- merging duplicates -----------------------------------------------------------------------


@transaction.atomic
def ticket_merge(*, actor: User, duplicate: Ticket, target: Ticket) -> Ticket:
    """Merge a duplicate into a ticket: its conversation moves over (with a note saying so), its
    followers and "me too"s come along, and the duplicate is closed pointing at the target. Both
    tickets get audit rows. Refused when someone who may see the duplicate could not see the target
    (a private ticket merged into a public one would publish its conversation, and the other way
    round its followers would lose it)."""
    _require_agent(actor)
    if duplicate.pk == target.pk:
        raise ApplicationError("A ticket cannot be merged into itself.", errors={"into": ["Choose another ticket."]})
    first, second = sorted([duplicate.pk, target.pk])
    locked = {t.pk: t for t in Ticket.objects.select_for_update(of=("self",)).select_related(
        "requester", "assignee", "team", "service").filter(pk__in=[first, second]).order_by("pk")}
    duplicate, target = locked[duplicate.pk], locked[target.pk]
    if duplicate.visibility != target.visibility:
        raise ApplicationError(
            f"{duplicate.number} is {duplicate.get_visibility_display().lower()} and {target.number} is "
            f"{target.get_visibility_display().lower()}: only tickets with the same visibility are merged.",
            errors={"into": ["Choose a ticket with the same visibility."]},
        )
    if duplicate.visibility == Visibility.PRIVATE and duplicate.requester_id != target.requester_id:
        raise ApplicationError(
            "Private tickets of different requesters are not merged: each would see the other's conversation.",
            errors={"into": ["Choose a ticket of the same requester."]},
        )
    if duplicate.merged_into_id or duplicate.status == Status.CLOSED:
        raise ApplicationError(f"{duplicate.number} is already closed.", errors={"duplicate": ["Already closed."]})
    if not target.is_open:
        raise ApplicationError(f"{target.number} is no longer open.", errors={"into": ["Choose an open ticket."]})
    if duplicate.kind == Kind.PROBLEM or target.kind == Kind.PROBLEM:
        raise ApplicationError("Problems are not merged; link their incidents instead.",
                               errors={"into": ["Choose an incident or a request."]})

    moved = Comment.objects.filter(ticket=duplicate).update(ticket=target)
    Attachment.objects.filter(ticket=duplicate).update(ticket=target)
    _comment_write(target, actor, f"Merged {duplicate.number} ({duplicate.title}) into this ticket: "
                                  f"{moved} message{'s' if moved != 1 else ''} moved here.", internal=False)
    for follower in User.objects.filter(pk__in=ticket_follows(duplicate).values("user_id"), is_active=True).order_by("pk"):
        _follow(target, follower, Follow.Reason.MANUAL)
    new_me_too = MeToo.objects.filter(ticket=duplicate).exclude(
        user_id__in=MeToo.objects.filter(ticket=target).values("user_id")).exclude(user_id=target.requester_id)
    carried = [MeToo(ticket=target, user_id=user_id) for user_id in new_me_too.values_list("user_id", flat=True)]
    if duplicate.requester_id != target.requester_id and target.kind == Kind.INCIDENT and target.is_public and not \
            MeToo.objects.filter(ticket=target, user_id=duplicate.requester_id).exists():
        carried.append(MeToo(ticket=target, user_id=duplicate.requester_id))
    MeToo.objects.bulk_create(carried, ignore_conflicts=True)
    target.me_too_count = MeToo.objects.filter(ticket=target).count()
    target.save(update_fields=["me_too_count", "updated_at"])
    _change(target, actor, "merged", None, duplicate.number)

    now = timezone.now()
    _comment_write(duplicate, actor, f"Merged into {target.number}: the conversation continues there.", internal=False)
    fields = ["merged_into"]
    duplicate.merged_into = target
    _change(duplicate, actor, "merged_into", None, target.number)
    if duplicate.status != Status.RESOLVED:
        fields += _set_status(duplicate, actor, Status.RESOLVED, now)
    fields += _set_status(duplicate, actor, Status.CLOSED, now)
    duplicate.save(update_fields=sorted(set(fields)) + ["updated_at"])
    _publish(duplicate, actor=actor, verb="merged", summary=f"{_name(actor)} merged {duplicate.number} into {target.number}",
             notify=_followers_to_notify(duplicate),
             notification=NotificationSpec(kind="ticket.status", text=f"{duplicate.number} was merged into {target.number}",
                                           url=target.get_absolute_url()))
    _publish(target, actor=actor, verb="merged", summary=f"{_name(actor)} merged {duplicate.number} into {target.number}")
    return target


# --- canned responses --------------------------------------------------------------------------


def _canned_check(actor: User, *, title: str, body: str, team: Team | None, set_status: str, set_priority) -> None:
    errors: dict[str, list[str]] = {}
    if not title.strip():
        errors["title"] = ["Give it a title."]
    elif len(title) > 120:
        errors["title"] = ["Keep the title under 120 characters."]
    if not body.strip():
        errors["body"] = ["Write the text to insert."]
    elif len(body) > 10_000:
        errors["body"] = ["Keep it under 10,000 characters."]
    if set_status and set_status not in Status.values:
        errors["set_status"] = [f"Choose one of {', '.join(Status.values)}."]
    if set_priority is not None and set_priority not in Priority.values:
        errors["set_priority"] = ["Choose 1 (critical) to 4 (low)."]
    if errors:
        raise ApplicationError("The canned response was not saved.", errors=errors)
    if team is not None and team.pk != actor.team_id and actor.role not in ("manager", "admin"):
        raise Forbidden("You share canned responses with your own team only.")


@transaction.atomic
def canned_response_create(*, actor: User, title: str, body: str, team: Team | None = None, set_status: str = "",
                           set_priority: int | None = None) -> "CannedResponse":
    """A personal snippet, or (with `team`) one shared with the agent's team."""
    _require_agent(actor)
    _canned_check(actor, title=title, body=body, team=team, set_status=set_status, set_priority=set_priority)
    return CannedResponse.objects.create(
        title=one_line(title), body=body, owner=None if team else actor, team=team, set_status=set_status,
        set_priority=set_priority, created_by=actor,
    )


@transaction.atomic
def canned_response_delete(*, actor: User, response: "CannedResponse") -> None:
    _require_agent(actor)
    if response.owner_id != actor.pk and not (response.team_id and (response.team_id == actor.team_id or actor.role in ("manager", "admin"))):
        raise ApplicationError("Not found.", status=404)
    response.delete()


@transaction.atomic
def canned_response_apply(*, actor: User, ticket: Ticket, response: "CannedResponse") -> Ticket:
    """The status and priority a canned response sets, applied when its reply is sent."""
    changes = {}
    if response.set_status and response.set_status != ticket.status:
        changes["status"] = response.set_status
    if response.set_priority and response.set_priority != ticket.priority:
        changes["priority"] = response.set_priority
    return ticket_update(actor=actor, ticket=ticket, **changes) if changes else ticket


# --- satisfaction ------------------------------------------------------------------------------


@transaction.atomic
def rating_create(*, actor: User, ticket: Ticket, score: int, comment: str = "") -> Rating:
    if not can_see(actor, ticket):
        raise ApplicationError("Not found.", status=404)
    if actor != ticket.requester:
        raise Forbidden("Only the requester rates the resolution.")
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
        raise ApplicationError("Rate from 1 to 5.", errors={"score": ["Choose a whole number from 1 to 5."]})
    ticket = _lock(ticket)
    if ticket.status not in (Status.RESOLVED, Status.CLOSED):
        raise ApplicationError("Rate a ticket once it is resolved.")
    if Rating.objects.filter(ticket=ticket, resolution_round=ticket.resolution_count).exists():
        raise ApplicationError("You already rated this resolution.")
    rating = Rating.objects.create(
        ticket=ticket, rater=actor, score=score, comment=comment[:2000], resolution_round=ticket.resolution_count
    )
    hooks.rating_recorded(rating=rating, ticket=ticket)
    assignee = [ticket.assignee] if ticket.assignee else []
    _publish(
        ticket, actor=actor, verb="rated", summary=f"{_name(actor)} rated the resolution of {ticket.number} {score}/5",
        notify=assignee, internal=True,
        notification=NotificationSpec(kind="ticket.rated", text=f"{_name(actor)} rated {ticket.number} {score}/5",
                                      url=ticket.get_absolute_url()),
        data={"score": score, "assignee": ticket.assignee_id},
    )
    return rating


# --- SLA ---------------------------------------------------------------------------------------


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


# --- agent conveniences ------------------------------------------------------------------------


@transaction.atomic
def saved_view_save(*, actor: User, name: str, query: dict) -> SavedView:
    _require_agent(actor)
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise ApplicationError("Name the view.", errors={"name": ["Give a name of up to 80 characters."]})
    view, _ = SavedView.objects.update_or_create(owner=actor, name=name, defaults={"query": query})
    return view


@transaction.atomic
def saved_view_delete(*, actor: User, view_id: int) -> None:
    SavedView.objects.filter(owner=actor, pk=view_id).delete()


@transaction.atomic
def deflection_record(*, actor: User, query: str, outcome: str, suggestion_type: str = "", suggestion_key: str = "",
                      ticket: Ticket | None = None) -> Deflection:
    if outcome not in Deflection.Outcome.values:
        raise ApplicationError("Unknown outcome.")
    deflection = Deflection.objects.create(
        user=actor, query=query[:200], outcome=outcome, suggestion_type=suggestion_type[:32],
        suggestion_key=str(suggestion_key)[:64], ticket=ticket,
    )
    hooks.deflection_recorded(deflection=deflection)
    return deflection


@transaction.atomic
def portal_ticket_log(*, actor: User, suggestions_shown_for: str = "", **fields) -> Ticket:
    """A ticket logged from the portal. If matching suggestions were shown (for the summary in
    `suggestions_shown_for`) and the person logged their own anyway, that is a deflection that
    did not work, recorded with the ticket."""
    ticket = ticket_create(actor=actor, **fields)
    if suggestions_shown_for:
        deflection_record(actor=actor, query=suggestions_shown_for, outcome=Deflection.Outcome.LOGGED, ticket=ticket)
    return ticket


# --- security reports --------------------------------------------------------------------------


@transaction.atomic
def security_incident_open(*, reporter: User, title: str, description: str) -> Ticket:
    """A private incident for the security team, logged on the reporter's behalf."""
    team = Team.objects.filter(slug=settings.SECURITY_TEAM).first()
    if team is None:
        team = Team.objects.create(name=settings.SECURITY_TEAM.replace("-", " ").title(), slug=settings.SECURITY_TEAM)
    with ratelimit.unlimited():  # a security report is never refused for being one too many
        return ticket_create(
            actor=reporter, kind=Kind.INCIDENT, title=title, description=description, impact=2, urgency=1,
            visibility=Visibility.PRIVATE, team=team, desk_written=True,
        )

