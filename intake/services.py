"""Every write of the inbound channels. One parser service, `mail_ingest`, serves the IMAP poll and
the SMTP/LMTP receiver alike; tickets and comments are made by `tickets.services`."""
from __future__ import annotations

import hashlib
import logging
import re
from datetime import timedelta

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts import services as accounts
from accounts.models import Role, User
from feeds import mail_threads
from feeds import services as feeds
from servicedesk.errors import ApplicationError
from tickets import services as tickets
from tickets.models import Channel, Kind, Ticket, ticket_number
from tickets.selectors import can_see

from . import parsing
from .models import InboundMessage, Mailbox

logger = logging.getLogger(__name__)
Outcome = InboundMessage.Outcome


class Refused(Exception):
    """The message is not imported; `reply` says whether the sender is told so."""

    def __init__(self, reason: str, *, reply: bool):
        super().__init__(reason)
        self.reason = reason
        self.reply = reply


def mail_ingest(*, raw: bytes, mailbox: Mailbox | None) -> InboundMessage:
    """Import one e-mail: a new ticket, a comment on its ticket, or a recorded reason why not.

    Idempotent by Message-ID: a message already recorded is returned as it is, never imported twice.
    Nothing raised by a malformed message escapes: it is recorded as "could not import".
    """
    try:
        parsed = parsing.parse(raw)
    except parsing.Unreadable as exc:
        digest = hashlib.sha256(raw).hexdigest()[:40]
        return _store(mailbox, message_id=f"<sha256.{digest}@unreadable>", outcome=Outcome.FAILED,
                      reason=str(exc), size=len(raw))
    seen = InboundMessage.objects.filter(message_id=parsed.message_id).first()
    if seen is not None:
        return seen
    written_files: list = []
    try:
        try:
            with transaction.atomic():
                return _import(parsed, mailbox, written_files)
        except BaseException:
            for storage, name in written_files:  # the import rolled back: its files must not stay behind
                storage.delete(name)
            raise
    except IntegrityError:
        seen = InboundMessage.objects.filter(message_id=parsed.message_id).first()
        if seen is None:
            raise
        return seen
    except parsing.Unreadable as exc:
        return _store(mailbox, parsed=parsed, outcome=Outcome.FAILED, reason=str(exc))
    except Refused as exc:
        return _store(mailbox, parsed=parsed, outcome=Outcome.REFUSED, reason=exc.reason, reply=exc.reply)
    except ApplicationError as exc:
        return _store(mailbox, parsed=parsed, outcome=Outcome.REFUSED, reason=exc.message, reply=True)


def _import(parsed: parsing.Parsed, mailbox: Mailbox | None, written_files: list) -> InboundMessage:
    msg = parsed.headers
    if mail_threads.is_ours(parsed.message_id) or msg.get("X-Servicedesk-Delivery") is not None:
        return _store(mailbox, parsed=parsed, outcome=Outcome.IGNORED, reason="The desk's own message.")
    bounced = parsing.bounced_addresses(msg)
    if bounced is not None:
        for address in bounced:
            feeds.mail_address_suppress(address=address, reason=f"Bounced: {parsed.subject}")
        listed = ", ".join(bounced) or "no failed recipient named"
        return _store(mailbox, parsed=parsed, outcome=Outcome.IGNORED, reason=f"Bounce ({listed}).")
    automatic = parsing.automatic_reason(msg)
    if automatic:
        return _store(mailbox, parsed=parsed, outcome=Outcome.IGNORED, reason=f"Automatic message ({automatic}).")
    if not parsed.sender or "@" not in parsed.sender:
        raise parsing.Unreadable("No sender address.")
    if parsed.size > settings.INBOUND_MAIL_MAX_BYTES:
        limit = settings.INBOUND_MAIL_MAX_BYTES // (1024 * 1024)
        raise Refused(f"The message is larger than {limit} MB.", reply=True)
    since = timezone.now() - timedelta(hours=1)
    if InboundMessage.objects.filter(sender=parsed.sender, received_at__gte=since).count() >= settings.INBOUND_MAIL_PER_SENDER_PER_HOUR:
        raise Refused("Too many messages from this sender in the last hour.", reply=False)
    parsing.read_body(parsed)

    person = _sender_account(parsed, mailbox)
    ticket = _ticket_replied_to(parsed)
    if ticket is not None:
        if not can_see(person, ticket):
            # Never appended, never confirmed: the ticket does not exist for this sender.
            raise Refused(f"The sender may not see {ticket.number}.", reply=False)
        body = parsing.new_text(parsed.text)[:20_000]
        files = _attachments(person, ticket, parsed, written_files)
        if not body and not files:
            return _store(mailbox, parsed=parsed, outcome=Outcome.IGNORED, reason="The reply had no new text.")
        comment = tickets.comment_add(actor=person, ticket=ticket, body=body or "Files sent by e-mail.",
                                      attachments=files, channel=Channel.EMAIL)
        feeds.mail_replied(actor=person, object_type="ticket", object_key=str(ticket.pk))
        return _store(mailbox, parsed=parsed, outcome=Outcome.COMMENT, ticket=ticket, comment=comment)

    ticket = tickets.ticket_create(
        actor=person, kind=Kind.INCIDENT, title=parsed.subject[:200] or "(no subject)",
        description=parsed.text[:20_000], team=mailbox.team if mailbox else None,
        service=mailbox.service if mailbox else None, channel=Channel.EMAIL,
    )
    files = _attachments(person, ticket, parsed, written_files)
    if files:
        tickets.comment_add(actor=person, ticket=ticket, body="Files sent with the e-mail.", attachments=files,
                            channel=Channel.EMAIL)
    return _store(mailbox, parsed=parsed, outcome=Outcome.TICKET, ticket=ticket)


def _sender_account(parsed: parsing.Parsed, mailbox: Mailbox | None) -> User:
    person = User.objects.filter(email__iexact=parsed.sender).order_by("-is_active", "id").first()
    if person is not None:
        if not person.is_active:
            raise Refused("The sender's account is deactivated.", reply=False)
        return person
    if mailbox is None or mailbox.unknown_senders != Mailbox.UnknownSenders.CREATE:
        raise Refused("The sender has no account here.", reply=True)
    base = slugify(parsed.sender.split("@", 1)[0])[:30] or "mail-user"
    username, n = base, 1
    while User.objects.filter(username__iexact=username).exists():
        n += 1
        username = f"{base}{n}"
    return accounts.user_create(username=username, password=None, role=Role.END_USER, email=parsed.sender,
                                display_name=parsed.sender_name[:100] or parsed.sender)


def _ticket_replied_to(parsed: parsing.Parsed) -> Ticket | None:
    sent = feeds.mail_thread_find(message_ids=parsed.references)
    if sent is not None and sent.object_type == "ticket" and sent.object_key.isdecimal():
        ticket = Ticket.objects.filter(pk=int(sent.object_key)).first()
        if ticket is not None:
            return ticket
    for root in parsed.references:
        match = re.fullmatch(rf"<ticket-(\d+)\.thread@{re.escape(settings.MAIL_DOMAIN)}>", root, flags=re.IGNORECASE)
        if match:
            ticket = Ticket.objects.filter(pk=int(match.group(1))).first()
            if ticket is not None:
                return ticket
    tag = parsing.TAG_RE.search(parsed.subject)
    if tag:
        ticket = Ticket.objects.filter(pk=int(tag.group(2))).first()
        if ticket is not None and ticket_number(ticket.kind, ticket.pk) == tag.group(1):
            return ticket
    return None


def _attachments(person: User, ticket: Ticket, parsed: parsing.Parsed, written_files: list) -> list:
    """Files and inline images through the same checks and size limit as uploads; one that fails
    them is left out, the rest are kept."""
    written = []
    for part in parsed.parts:
        if not part.data:
            continue
        upload = SimpleUploadedFile(part.filename.replace("/", "_"), part.data, content_type=part.content_type)
        try:
            written.append(tickets.attachment_add(actor=person, ticket=ticket, upload=upload))
        except ApplicationError as exc:
            logger.info("e-mail attachment left out: %s", exc.message)
    written_files.extend((a.file.storage, a.file.name) for a in written)
    return written


def _store(mailbox: Mailbox | None, *, outcome: str, reason: str = "", parsed: parsing.Parsed | None = None,
           message_id: str = "", size: int = 0, reply: bool = False, ticket: Ticket | None = None,
           comment=None) -> InboundMessage:
    with transaction.atomic():
        record, created = InboundMessage.objects.get_or_create(
            message_id=parsed.message_id if parsed else message_id,
            defaults={
                "mailbox": mailbox, "sender": parsed.sender[:254] if parsed else "",
                "subject": parsed.subject if parsed else "", "size": parsed.size if parsed else size,
                "outcome": outcome, "reason": reason[:500], "ticket": ticket, "comment": comment,
            },
        )
        if created and reply and parsed is not None and outcome == Outcome.REFUSED:
            _reply_refusal(parsed, mailbox, reason)
    return record


def _reply_refusal(parsed: parsing.Parsed, mailbox: Mailbox | None, reason: str) -> None:
    if feeds.mail_address_suppressed(parsed.sender):
        return
    desk = mailbox.address if mailbox else settings.MAIL_DESK_ADDRESS
    mail = EmailMessage(
        subject=f"Re: {parsed.subject}"[:200] if parsed.subject else "Your message to the service desk",
        body=(
            "Hello,\n\nthank you for writing to the service desk. We could not take your message in:\n\n"
            f"  {reason}\n\nPlease sign in to the Service Desk to log your request, or ask a colleague "
            f"at the desk for help: {settings.SITE_URL}\n\nThis is an automatic answer; replies to it are not read."
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[parsed.sender],
        headers={"Auto-Submitted": "auto-replied", "In-Reply-To": parsed.message_id, "References": parsed.message_id,
                 "Message-ID": mail_threads.message_id_for(f"refusal:{parsed.message_id}"), "Reply-To": desk},
    )

    def send():
        try:
            mail.send(fail_silently=False)
        except Exception:  # noqa: BLE001 - a refusal that cannot be sent changes nothing
            logger.warning("could not send the refusal to an inbound message", exc_info=True)

    transaction.on_commit(send)


def mailbox_poll(*, mailbox_id: int) -> int:
    """Read one IMAP mailbox now; its last poll and error are recorded (never its secret)."""
    from . import imap

    mailbox = Mailbox.objects.filter(pk=mailbox_id, active=True, kind=Mailbox.Kind.IMAP).first()
    if mailbox is None:
        return 0
    error = ""
    handled = 0
    try:
        handled = imap.poll(mailbox, lambda raw: mail_ingest(raw=raw, mailbox=mailbox))
    except Exception as exc:  # noqa: BLE001 - recorded for the admins; the next poll tries again
        error = _describe(exc, mailbox)
        logger.warning("polling mailbox %s failed: %s", mailbox.pk, error)
    Mailbox.objects.filter(pk=mailbox.pk).update(last_polled_at=timezone.now(), last_error=error)
    return handled


def _describe(exc: Exception, mailbox: Mailbox) -> str:
    text = f"{type(exc).__name__}: {exc}"
    if mailbox.secret:
        text = text.replace(mailbox.secret, "***")
    return text[:500]


@transaction.atomic
def mailbox_save(*, actor: User, mailbox: Mailbox | None = None, **fields) -> Mailbox:
    """Create or change a mailbox (admins). An empty `secret` keeps the one stored."""
    _require_admin(actor)
    mailbox = mailbox or Mailbox()
    secret = fields.pop("secret", "")
    for name, value in fields.items():
        setattr(mailbox, name, value)
    if secret:
        mailbox.secret = secret
    if mailbox.kind == Mailbox.Kind.IMAP and not (mailbox.host and mailbox.username):
        raise ApplicationError("An IMAP mailbox needs a host and a user.",
                               errors={"host": ["Give the IMAP server and the user to sign in as."]})
    if Mailbox.objects.filter(address__iexact=mailbox.address).exclude(pk=mailbox.pk).exists():
        raise ApplicationError("Another mailbox has that address.", errors={"address": ["Another mailbox has that address."]})
    mailbox.full_clean()
    mailbox.save()
    return mailbox


def _require_admin(actor: User) -> None:
    if not (actor.is_active and actor.role == Role.ADMIN):
        from servicedesk.errors import Forbidden

        raise Forbidden("Only admins manage inbound channels.")


class Replayed(Exception):
    """This signed chat request was served before."""


def chat_ticket_log(*, connection, fingerprint: str, external_user: str, text: str, thread: str,
                    event_id: str = "") -> tuple[Ticket | None, str]:
    """A chat message or slash command logs a ticket for the mapped person, who follows it.
    Returns the ticket (None when nothing was logged) and what to answer in the chat."""
    from .models import ChatConnection, ChatRequest

    with transaction.atomic():
        if ChatRequest.objects.filter(connection=connection, fingerprint=fingerprint).exists():
            raise Replayed()
        if event_id and ChatRequest.objects.filter(connection=connection, fingerprint=f"event:{event_id}").exists():
            return None, "Already logged."  # the chat tool retried an event we have
        try:
            with transaction.atomic():
                ChatRequest.objects.create(connection=connection, fingerprint=fingerprint, thread=thread[:255])
        except IntegrityError:
            raise Replayed() from None
        ChatConnection.objects.filter(pk=connection.pk).update(last_event_at=timezone.now())
        username = (connection.people or {}).get(external_user)
        person = User.objects.filter(username=username, is_active=True).first() if username else None
        if person is None:
            return None, "Your chat account is not linked to the service desk yet; ask an admin to link it."
        text = " ".join(text.split()) if len(text) < 200 else text.strip()
        if not text:
            return None, "Describe the problem after the command, for example: /ticket VPN drops every few minutes."
        channel = Channel.SLACK if connection.kind == ChatConnection.Kind.SLACK else Channel.TEAMS
        try:
            with transaction.atomic():
                ticket = tickets.ticket_create(actor=person, kind=Kind.INCIDENT, title=text.splitlines()[0][:200],
                                               description=text[:20_000], team=connection.team, channel=channel)
        except ApplicationError as exc:
            return None, f"The ticket could not be logged: {exc.message}"
        ChatRequest.objects.filter(connection=connection, fingerprint=fingerprint).update(ticket=ticket)
        if event_id:
            ChatRequest.objects.create(connection=connection, fingerprint=f"event:{event_id}", ticket=ticket, thread=thread[:255])
    url = f"{settings.SITE_URL.rstrip('/')}{ticket.get_absolute_url()}"
    return ticket, f"Logged {ticket.number}: {ticket.title} - you follow it. {url}"


def _check_connection(*, name: str, kind: str, secret: str, people: dict, exclude_pk=None) -> None:
    from .models import ChatConnection

    if ChatConnection.objects.filter(name__iexact=name).exclude(pk=exclude_pk).exists():
        raise ApplicationError("That name is taken.", errors={"name": ["Another connection has that name."]})
    unknown = sorted(set(people.values()) - set(User.objects.filter(username__in=people.values()).values_list("username", flat=True)))
    if unknown:
        raise ApplicationError("Unknown people.", errors={"people": [f"No account named {', '.join(unknown)}."]})
    if kind == ChatConnection.Kind.TEAMS and secret:
        from . import chat

        try:
            chat.teams_sign(secret, b"")
        except Exception:  # noqa: BLE001 - binascii.Error and friends
            raise ApplicationError("Not a Teams security token.",
                                   errors={"secret": ["Paste the security token Teams showed (base64)."]}) from None


@transaction.atomic
def chat_connection_update(*, actor: User, connection, name: str, people: dict, team=None, outbound_channel: str = "",
                           secret: str = ""):
    """Change a chat connection (admins). Its kind and endpoints stay; an empty `secret` keeps the one stored."""
    _require_admin(actor)
    _check_connection(name=name, kind=connection.kind, secret=secret, people=people, exclude_pk=connection.pk)
    connection.name, connection.people, connection.team, connection.outbound_channel = name, people, team, outbound_channel
    if secret:
        connection.secret = secret
    connection.full_clean()
    connection.save()
    return connection


@transaction.atomic
def channel_set_active(*, actor: User, channel, active: bool):
    """Deactivate or reactivate a mailbox or chat connection (admins). An inactive mailbox is not
    polled and takes no delivered mail; an inactive chat connection answers 404 and sends nothing back."""
    _require_admin(actor)
    type(channel).objects.filter(pk=channel.pk).update(active=bool(active))
    channel.active = bool(active)
    return channel


@transaction.atomic
def chat_connection_create(*, actor: User, name: str, kind: str, secret: str, people: dict, team=None,
                           outbound_channel: str = ""):
    from .models import ChatConnection

    _require_admin(actor)
    if not secret:
        raise ApplicationError("A secret is needed.", errors={"secret": ["Paste the signing secret or security token."]})
    _check_connection(name=name, kind=kind, secret=secret, people=people)
    base = slugify(name)[:100] or "chat"
    slug, n = base, 1
    while ChatConnection.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    connection = ChatConnection(name=name, slug=slug, kind=kind, secret=secret, people=people, team=team,
                                outbound_channel=outbound_channel)
    connection.full_clean()
    connection.save()
    return connection
