"""What every part of the community services shares: audiences and references."""

from __future__ import annotations

from feeds.audience import SIGNED_IN, Audience
from feeds.services import ObjectRef

from ..models import Community, Membership


def community_audience(community: Community, *, users=()) -> Audience:
    """Open communities are seen by everyone signed in; private ones by their members only.

    In a private community the people named in `users` (an asker, an answer's author, an idea's
    voters) are kept only while they are members: someone removed, or who left, hears nothing
    more of what happens inside."""
    if community.is_private:
        users = list(users)
        if users:
            users = Membership.objects.filter(community=community, user_id__in=users).values_list("user_id", flat=True)
        return Audience.of(users=users, groups=[f"community:{community.slug}"])
    return Audience.of(users=users, groups=[SIGNED_IN])


def community_ref(community: Community) -> ObjectRef:
    return ObjectRef("community", community.slug, community.name)
