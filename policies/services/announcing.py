"""Posts the product makes itself: status-channel announcements, chat threads and the requester's own channel."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from servicedesk.errors import ApplicationError
from tickets.models import Kind, Visibility
from tickets.selectors import can_see

from .. import selectors
from ..models import Audience as ChannelAudience
from ..models import Channel, EventKind, ExternalChannelPreference, OutboundPost
from ._common import MAJOR_PRIORITY, PERSONAL_EVENTS
from .deciding import outbound_create


def _announcement(event: str, ticket, audience: str) -> str:
    """The status channels' default text: neutral outside the desk (a template naming {title} may
    add the title), with the title on internal channels."""
    internal = audience == ChannelAudience.INTERNAL
    if event == EventKind.MAJOR_INCIDENT_OPENED:
        return f"{ticket.number}: {ticket.title}" if internal else f"Major incident {ticket.number} is being worked on."
    return f"{ticket.number} has been resolved: {ticket.title}" if internal else f"{ticket.number} has been resolved."


def _personal_text(event: str, ticket, audience: str) -> str:
    """A requester's update: the number and what happened; the title only on internal channels."""
    about = f"{ticket.number} ({ticket.title})" if audience == ChannelAudience.INTERNAL else ticket.number
    if event == EventKind.TICKET_REPLIED:
        return f"There is a new reply on your ticket {about}."
    if event == EventKind.TICKET_CLOSED:
        return f"Your ticket {about} has been closed."
    if ticket.status == "resolved":
        return f"Your ticket {about} has been resolved."
    return f"Your ticket {about} is now {ticket.get_status_display().lower()}."


def ticket_announce(*, ticket, change: str, actor: User | None = None, ref: str = "") -> list[OutboundPost]:
    """Runs on the ticket_opened, ticket_status_changed and ticket_replied hooks (inside their
    transaction): `change` is "opened", the new status, or "replied" (`ref` the comment's id).

    Public major incidents are announced on the status channels when opened and resolved. The
    requester hears of every public change on the external channel they chose, through the
    policy engine like every other post, unless they made the change themselves."""

    posts = []
    if ticket.kind == Kind.INCIDENT and ticket.visibility == Visibility.PUBLIC and ticket.priority <= MAJOR_PRIORITY:
        event = {"opened": EventKind.MAJOR_INCIDENT_OPENED, "resolved": EventKind.TICKET_RESOLVED}.get(change)
        if event:
            for channel in Channel.objects.filter(active=True, announces_incidents=True).order_by("id"):
                posts.append(outbound_create(
                    actor=None, channel=channel, body=_announcement(event, ticket, channel.audience), ticket=ticket, event=event,
                    dedupe_key=f"{event}:{ticket.pk}:{ticket.resolution_count}:{channel.pk}",
                ))
    if change != "opened":
        post = requester_update(ticket=ticket, change=change, actor=actor, ref=ref)
        if post is not None:
            posts.append(post)
    return posts


def chat_thread_update(*, ticket, actor, verb: str, summary: str, comment_id: int | None = None) -> list[OutboundPost]:
    """A ticket logged from a chat tool: every update its requester is told about (public replies,
    status changes) goes back to the thread it was logged from, through the connection's outbound
    channel and that channel's policies. Nothing goes once the ticket was made private, when the connection
    inactive, or the requester no longer linked to it, inactive or unable to see the ticket.
    Subscribed to ``hooks.ticket_public_update`` (inside the ticket's transaction)."""
    from intake.models import ChatRequest
    from tickets.models import Status, TicketChange

    requester = ticket.requester
    if actor is not None and actor.pk == ticket.requester_id:
        return []  # the requester did it: nothing to tell them
    if not requester.is_active or not can_see(requester, ticket):
        return []
    if ticket.visibility == Visibility.PRIVATE and TicketChange.objects.filter(
            ticket=ticket, field="visibility", new=Visibility.PRIVATE).exists():
        return []  # made private since: what happens now is not for the chat thread
    # The requester's own thread hears what the requester would hear on their chosen channel:
    # the same personal events and the same neutral texts (the title only on internal channels).
    if verb == "commented":
        event, key = EventKind.TICKET_REPLIED, f"chat:comment:{comment_id}" if comment_id else None
    elif ticket.status == Status.CLOSED:
        event, key = EventKind.TICKET_CLOSED, f"chat:closed:{ticket.pk}:{ticket.resolution_count}"
    elif ticket.status == Status.RESOLVED:
        event, key = EventKind.TICKET_STATUS_CHANGED, f"chat:resolved:{ticket.pk}:{ticket.resolution_count}"
    else:
        event, key = EventKind.TICKET_STATUS_CHANGED, None
    requests = (ChatRequest.objects.filter(ticket=ticket, connection__active=True).exclude(connection__outbound_channel="")
                .select_related("connection").order_by("id"))
    posts, threads = [], set()
    for request in requests:
        connection = request.connection
        if requester.username not in (connection.people or {}).values() or (connection.pk, request.thread) in threads:
            continue
        threads.add((connection.pk, request.thread))
        channel = Channel.objects.filter(
            slug=connection.outbound_channel, active=True, kind__in=[Channel.Kind.SLACK, Channel.Kind.TEAMS],
        ).first()
        if channel is None:
            continue
        posts.append(outbound_create(
            actor=None, channel=channel, body=_personal_text(event, ticket, channel.audience), ticket=ticket, event=event,
            recipient=request.thread, dedupe_key=f"{key}:{channel.pk}:{request.pk}" if key else None,
        ))
    return posts


def requester_update(*, ticket, change: str, actor: User | None = None, ref: str = "") -> OutboundPost | None:
    """One change on a ticket, told to its requester on the external channel they chose (if any)."""
    requester = ticket.requester
    if actor is not None and actor.pk == requester.pk or not requester.is_active:
        return None
    preference = (
        ExternalChannelPreference.objects.select_related("channel")
        .filter(user_id=requester.pk, channel__active=True, channel__offered_to_requesters=True).first()
    )
    if preference is None:
        return None
    channel = preference.channel
    event = PERSONAL_EVENTS.get(change, EventKind.TICKET_STATUS_CHANGED)
    if event == EventKind.TICKET_REPLIED:
        dedupe = f"{event}:{ref}:{channel.pk}" if ref else None
    elif event == EventKind.TICKET_STATUS_CHANGED:
        dedupe = None  # a ticket may pass through the same status more than once
    else:
        dedupe = f"{event}:{ticket.pk}:{ticket.resolution_count}:{channel.pk}"
    return outbound_create(
        actor=None, channel=channel, body=_personal_text(event, ticket, channel.audience), ticket=ticket, event=event,
        recipient=requester.email if channel.kind == Channel.Kind.EMAIL else "", dedupe_key=dedupe,
    )


@transaction.atomic
def external_channel_set(*, actor: User, channel_id) -> Channel | None:
    """A person chooses where to hear that their ticket was closed (or clears the choice)."""
    channel = None
    if channel_id not in (None, ""):
        channel = selectors.offered_channels().filter(pk=int(channel_id) if str(channel_id).isdecimal() else -1).first()
        if channel is None:
            raise ApplicationError("Choose one of the channels offered.",
                                   errors={"external_channel": ["This channel is not offered for ticket updates."]})
    ExternalChannelPreference.objects.update_or_create(user=actor, defaults={"channel": channel})
    return channel
