"""Fan-out on write: put each activity into the timeline of everyone who should see it in their
feed, so reading a feed is one indexed query whatever people follow.

Addressed people (the audience's user ids) get their entry in the publishing transaction. The
followers of the activity's object, target, actor and tags are found and written by a Celery task
(through the outbox, so a crash cannot lose it), in chunks, skipping anyone the audience does not
admit or who muted one of those streams.
"""
from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q

from accounts.models import Role

from . import live
from .audience import ADMINS, AGENTS, MANAGERS, SIGNED_IN, Audience
from .bulk_rows import timeline_rows_insert
from .models import Activity, Follow, Mute, TimelineEntry
from .presenters import activity_payload

CHUNK = 1000
TICKET_TYPES = {"ticket", "service", "queue", "security_report"}
COMMUNITY_TYPES = {"community", "question", "answer", "article", "idea", "poll"}
_ROLE_GROUPS = {
    Role.END_USER: {SIGNED_IN},
    Role.AGENT: {SIGNED_IN, AGENTS},
    Role.MANAGER: {SIGNED_IN, AGENTS, MANAGERS},
    Role.ADMIN: {SIGNED_IN, AGENTS, MANAGERS, ADMINS},
}
_bulk_members: dict[str, object] = {}


def register_group_members(prefix: str, members) -> None:
    """`members(group, user_ids) -> set of user ids in group`, for groups like "community:<slug>"."""
    _bulk_members[prefix] = members


def context_for(activity: Activity) -> str:
    types = {activity.object_type, activity.target_type}
    if types & COMMUNITY_TYPES:
        return TimelineEntry.Context.COMMUNITIES
    if types & TICKET_TYPES:
        return TimelineEntry.Context.TICKETS
    return TimelineEntry.Context.PEOPLE


def streams_of(activity: Activity) -> set[tuple[str, str]]:
    """The (type, key) pairs whose followers want this activity in their feed."""
    pairs = {(activity.object_type, activity.object_key)}
    if activity.target_type:
        pairs.add((activity.target_type, activity.target_key))
    actor = activity.data.get("actor_username")
    if actor:
        pairs.add(("user", actor))
    for tag in activity.data.get("tags", []):
        pairs.add(("tag", tag))
    return pairs


def write_entries(activity: Activity, user_ids: Iterable[int]) -> int:
    user_ids = list(user_ids)
    timeline_rows_insert(activity_id=activity.pk, user_ids=user_ids, context=context_for(activity))
    return len(user_ids)


def admitted(audience: Audience, people: list[tuple[int, str]]) -> list[int]:
    """The user ids among (id, role) pairs that the audience admits, in bulk."""
    out = []
    extra_groups = [g for g in audience.groups if ":" in g]
    members: set[int] = set()
    for group in extra_groups:
        resolver = _bulk_members.get(group.split(":", 1)[0])
        if resolver is not None:
            members |= resolver(group, [uid for uid, _ in people])
    for uid, role in people:
        if uid in audience.users or audience.groups & _ROLE_GROUPS.get(role, set()) or uid in members:
            out.append(uid)
    return out


def admitted_people(audience: Audience, people: Iterable) -> list:
    """The people (User objects, in order) the audience admits: one bulk check, not a query each.
    Inactive people are admitted only when addressed by id."""
    people = list(people)
    ids = set(admitted(audience, [(p.pk, p.role if p.is_active else "") for p in people]))
    return [p for p in people if p.pk in ids]


def fan_out(activity: Activity, audience: Audience) -> int:
    """Write the followers' entries in chunks of CHUNK; safe to run again (entries are unique)."""
    pairs = streams_of(activity)
    condition = Q()
    for target_type, target_key in pairs:
        condition |= Q(target_type=target_type, target_key=target_key)
    muted_condition = Q()
    for target_type, target_key in pairs:
        muted_condition |= Q(target_type=target_type, target_key=target_key)
    followers = (
        Follow.objects.filter(condition, user__is_active=True)
        .values_list("user_id", "user__role")
        .order_by("user_id")
        .distinct()
    )
    written, last = 0, 0
    while True:
        chunk = list(followers.filter(user_id__gt=last)[:CHUNK])
        if not chunk:
            return written
        last = chunk[-1][0]
        ids = admitted(audience, chunk)
        muted = set(Mute.objects.filter(muted_condition, user_id__in=ids).values_list("user_id", flat=True))
        fresh = [uid for uid in ids if uid not in muted and uid not in audience.users]
        written += write_entries(activity, fresh)
        if fresh:
            # Followers' open feeds learn of it live; addressed people were told at publish time.
            payload = activity_payload(activity)
            transaction.on_commit(lambda p=payload, people=fresh: live.send_many(live.personal_activity_messages(people, p)))
