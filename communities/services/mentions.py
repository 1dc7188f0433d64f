"""Mentions of people in community texts."""

from __future__ import annotations

from accounts.models import User
from feeds.audience import Audience
from feeds.services import NotificationSpec, ObjectRef, activity_publish

from ..models import Community
from ._common import community_audience, community_ref


def _publish_mentions(*, actor: User, community: Community, obj: ObjectRef, body: str, url: str) -> None:
    """`@username` in a question, an answer, an answer's comment or an idea tells that person, if they
    may read the community."""
    from feeds.fanout import admitted_people
    from feeds.services import MENTION_RE

    names = {m.group(1) for m in MENTION_RE.finditer(body or "")} - {actor.username}
    if not names:
        return
    audience = community_audience(community)
    people = admitted_people(audience, User.objects.filter(username__in=sorted(names), is_active=True))
    if not people:
        return
    activity_publish(
        actor=actor, verb="mentioned", obj=obj, target=community_ref(community),
        audience=Audience.of(users=[actor.pk, *(p.pk for p in people)], groups=audience.groups),
        summary=f"{actor.display_name} mentioned {', '.join(p.display_name for p in people)} in {community.name}",
        notify=people, notification=NotificationSpec(
            kind="community.mentioned", text=f"{actor.display_name} mentioned you in {community.name}: {obj.title}", url=url,
        ),
    )
