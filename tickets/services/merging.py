"""Merging a duplicate into the ticket it repeats."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from feeds.models import Follow
from feeds.services import NotificationSpec
from servicedesk.errors import ApplicationError

from ..models import Attachment, Comment, Kind, MeToo, Status, Ticket, Visibility
from ._common import (
    _change,
    _comment_write,
    _follow,
    _followers_to_notify,
    _name,
    _publish,
    _require_agent,
    _set_status,
    ticket_follows,
)


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
