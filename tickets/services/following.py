"""Following a ticket and saying "me too"."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F

from accounts.models import User
from feeds.models import Follow
from servicedesk import ratelimit
from servicedesk.errors import ApplicationError

from ..models import Kind, MeToo, Ticket
from ..selectors import can_see
from ._common import _follow, _name, _publish, ticket_follows


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
