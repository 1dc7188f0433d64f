"""Ideas: proposing, voting and moving them through their statuses."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F

from accounts.models import User
from feeds.services import NotificationSpec, ObjectRef, activity_publish, mentions_check
from servicedesk import hooks, markdown
from servicedesk.errors import ApplicationError, NotVisible

from .. import selectors
from ..models import Community
from ._common import community_audience, community_ref
from .mentions import _publish_mentions
from .questions import _check_text, _require_member


@transaction.atomic
def idea_create(*, actor: User, community: Community, title: str, body: str = ""):
    from ..models import Idea

    _require_member(actor, community)
    _check_text(title, body)
    mentions_check(actor=actor, body=body)
    idea = Idea.objects.create(community=community, author=actor, title=title.strip(), body=body, body_html=markdown.render(body))
    activity_publish(
        actor=actor, verb="suggested", obj=ObjectRef("idea", str(idea.pk), idea.title), target=community_ref(community),
        audience=community_audience(community, users=[actor.pk]),
        summary=f"{actor.display_name} suggested an idea in {community.name}: {idea.title}",
    )
    _publish_mentions(actor=actor, community=community, obj=ObjectRef("idea", str(idea.pk), idea.title), body=body,
                      url=idea.get_absolute_url())
    hooks.text_written(author=actor, text=idea.title, obj=idea, field="title")
    if body.strip():
        hooks.text_written(author=actor, text=body, obj=idea, field="body")
    return idea


@transaction.atomic
def idea_vote(*, actor: User, idea):
    from ..models import Idea, IdeaVote

    _require_member(actor, idea.community)
    if idea.author_id == actor.pk:
        raise ApplicationError("You cannot vote for your own idea.")
    if idea.removed_at is not None:
        raise NotVisible()
    try:
        with transaction.atomic():
            IdeaVote.objects.create(idea=idea, user=actor)
    except IntegrityError:
        raise ApplicationError("You already voted for this idea.") from None
    Idea.objects.filter(pk=idea.pk).update(vote_count=F("vote_count") + 1)
    idea.refresh_from_db(fields=["vote_count"])
    return idea


@transaction.atomic
def idea_status_set(*, actor: User, idea, status: str, note: str = ""):
    from ..models import Idea

    community = idea.community
    selectors.require_moderator(actor, community, "Only the community's moderators set an idea's status.")
    if status not in Idea.Status.values:
        raise ApplicationError("Unknown status.", errors={"status": [f"Choose one of {', '.join(Idea.Status.values)}."]})
    note = (note or "").strip()
    if len(note) > 500:
        raise ApplicationError("Keep the note under 500 characters.", errors={"note": ["Too long."]})
    idea = Idea.objects.select_for_update().select_related("community", "author").get(pk=idea.pk)
    if idea.status == status and idea.status_note == note:
        return idea
    idea.status, idea.status_note, idea.status_changed_by = status, note, actor
    idea.save(update_fields=["status", "status_note", "status_changed_by"])
    voters = list(User.objects.filter(pk__in=idea.votes.values("user_id")))
    label = Idea.Status(status).label.lower()
    activity_publish(
        actor=actor, verb="changed_status", obj=ObjectRef("idea", str(idea.pk), idea.title), target=community_ref(community),
        audience=community_audience(community, users=[actor.pk, idea.author_id, *(v.pk for v in voters)]),
        summary=f"\u201c{idea.title}\u201d is now {label}" + (f": {note}" if note else ""),
        notify=[idea.author, *voters], notification=NotificationSpec(
            kind="community.idea_status", text=f"The idea \u201c{idea.title}\u201d is now {label}", url=idea.get_absolute_url()),
        data={"status": status, "note": note},
    )
    return idea
