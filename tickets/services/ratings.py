"""Satisfaction ratings on resolved tickets."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from feeds.services import NotificationSpec
from servicedesk import hooks
from servicedesk.errors import ApplicationError, Forbidden

from ..models import Rating, Status, Ticket
from ..selectors import can_see
from ._common import _lock, _name, _publish


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
