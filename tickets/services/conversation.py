"""The conversation on a ticket: comments, replies, mentions and attachments."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import timedelta

import filetype
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from feeds.audience import AGENTS, SIGNED_IN, Audience
from feeds.fanout import admitted_people
from feeds.models import Follow
from feeds.services import MENTION_RE, NotificationSpec, activity_publish, mentions_check
from servicedesk import hooks, ratelimit
from servicedesk.errors import ApplicationError, Forbidden

from ..models import Attachment, Channel, Comment, Status, Ticket, ticket_number
from ..selectors import can_see
from ._common import (
    TICKET_NUMBER_RE,
    _comment_write,
    _follow,
    _followers_to_notify,
    _lock,
    _name,
    _publish,
    _set_status,
    _staff,
    ticket_audience,
    ticket_follows,
    ticket_ref,
)


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
    if channel not in Channel.values:
        raise ApplicationError("Unknown channel.", errors={"channel": ["Unknown channel."]})
    if channel == Channel.WEB:
        mentions_check(actor=actor, body=body)  # a forwarded e-mail or chat message is never refused for it
    ratelimit.consume(actor=actor, action="comment")

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
    _notify_people_mentioned(ticket, actor, comment)
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


def _notify_people_mentioned(ticket: Ticket, actor: User, comment: Comment) -> None:
    """`@username` in a reply tells that person if they may see it: anyone who may see the ticket,
    agents only for an internal note. Followers already hear of the reply itself and are not told twice."""
    names = sorted({m.rstrip(".") for m in MENTION_RE.findall(comment.body)} - {actor.username})
    if not names:
        return
    names = names[:settings.MENTIONS_MAX]
    followers = ticket_follows(ticket).values("user_id")
    people = [
        person for person in User.objects.filter(username__in=names, is_active=True).exclude(pk__in=followers).order_by("username")
        if can_see(person, ticket) and (_staff(person) or not comment.internal)
    ]
    if not people:
        return
    groups = [AGENTS, SIGNED_IN] if ticket.is_public and not comment.internal else [AGENTS]
    activity_publish(
        actor=actor, verb="mentioned", obj=ticket_ref(ticket), target=ticket_ref(ticket),
        audience=Audience.of(users=[actor.pk, *(p.pk for p in people)], groups=groups),
        summary=f"{_name(actor)} mentioned {', '.join(_name(p) for p in people)} on {ticket.number}",
        notify=people,
        notification=NotificationSpec(
            kind="ticket.person_mentioned", text=f"{_name(actor)} mentioned you on {ticket.number}: {ticket.title}",
            url=f"{ticket.get_absolute_url()}#comment-{comment.pk}",
        ),
        data={"comment": comment.pk, "internal": comment.internal},
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
