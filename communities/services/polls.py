"""Polls: creating them and voting."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from feeds.services import ObjectRef, activity_publish
from servicedesk import hooks
from servicedesk.errors import ApplicationError, NotVisible

from ..models import Community
from ._common import community_audience, community_ref
from .questions import _require_member


@transaction.atomic
def poll_create(*, actor: User, community: Community, question: str, options: list[str], closes_at):
    from ..models import Poll, PollOption

    _require_member(actor, community)
    errors = {}
    question = (question or "").strip()
    labels = [o.strip() for o in options or [] if o and o.strip()]
    if not question or len(question) > 200:
        errors["question"] = ["Ask something, in up to 200 characters."]
    if not 2 <= len(labels) <= 10 or any(len(o) > 120 for o in labels):
        errors["options"] = ["Give 2 to 10 options of up to 120 characters."]
    elif len(set(labels)) != len(labels):
        errors["options"] = ["Each option once."]
    if closes_at is None or closes_at <= timezone.now():
        errors["closes_at"] = ["Choose a closing time in the future."]
    if errors:
        raise ApplicationError("The poll could not be created.", errors=errors)
    poll = Poll.objects.create(community=community, author=actor, question=question, closes_at=closes_at)
    PollOption.objects.bulk_create([PollOption(poll=poll, label=label, position=i) for i, label in enumerate(labels)])
    activity_publish(
        actor=actor, verb="polled", obj=ObjectRef("poll", str(poll.pk), question), target=community_ref(community),
        audience=community_audience(community, users=[actor.pk]),
        summary=f"{actor.display_name} asked {community.name}: {question}",
    )
    hooks.text_written(author=actor, text=question, obj=poll, field="question")
    hooks.text_written(author=actor, text="\n".join(labels), obj=poll, field="options")
    return poll


@transaction.atomic
def poll_vote(*, actor: User, poll, option_id: int):
    from ..models import Poll, PollOption, PollVote

    _require_member(actor, poll.community)
    poll = Poll.objects.select_for_update().get(pk=poll.pk)
    if poll.removed_at is not None:
        raise NotVisible()
    if poll.closes_at <= timezone.now():
        raise ApplicationError("This poll is closed.")
    option = PollOption.objects.filter(poll=poll, pk=option_id).first()
    if option is None:
        raise ApplicationError("Choose one of the poll's options.", errors={"option": ["Not an option of this poll."]})
    try:
        with transaction.atomic():
            PollVote.objects.create(poll=poll, option=option, user=actor)
    except IntegrityError:
        raise ApplicationError("You already voted in this poll.") from None
    PollOption.objects.filter(pk=option.pk).update(vote_count=F("vote_count") + 1)
    return poll
