"""Who may see or subscribe to community and question streams, who is in a community's audience
group, and the community walls. ``CommunitiesConfig.ready`` registers these with feeds."""

from __future__ import annotations

from feeds import walls
from servicedesk.errors import NotVisible

from . import selectors
from .models import Community, Membership
from .services import community_audience


def members(group: str, user_ids: list[int]) -> set[int]:
    slug = group.split(":", 1)[1]
    return set(Membership.objects.filter(community__slug=slug, user_id__in=user_ids).values_list("user_id", flat=True))


def community_wall(viewer, key: str) -> walls.Wall:
    community = Community.objects.filter(slug=key).first()
    if community is None or not selectors.can_read(viewer, community):
        raise NotVisible()
    return walls.Wall(
        type="community", key=community.slug, title=community.name, audience=community_audience(community),
        target_id=community.pk, url=community.get_absolute_url(),
        posting_refused=selectors.REMOVED_MESSAGE if selectors.is_barred(viewer, community) else "",
    )


def may_see(user, key: str) -> bool:
    community = Community.objects.filter(slug=key).first()
    return community is not None and selectors.can_read(user, community)


def may_read_question(user, key: str) -> bool:
    if not key.isdecimal():
        return False
    try:
        selectors.question_get(user=user, question_id=int(key))
    except NotVisible:
        return False
    return True
