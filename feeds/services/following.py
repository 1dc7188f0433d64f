"""Following, unfollowing, muting, and copying recent history into a new follower's timeline."""

from __future__ import annotations

import logging

from django.db import transaction

from accounts.models import User
from servicedesk import ratelimit
from servicedesk.errors import ApplicationError, NotVisible

from .. import fanout, live, selectors
from ..models import Follow, Mute

logger = logging.getLogger(__name__)


def follow_write(*, user: User, target_type: str, target_key: str, target_id: int | None = None,
                 reason: str = "manual") -> tuple[Follow, bool]:
    """Record a follow. Domain services check who may follow what before calling this.

    Every new follow, however it came about (a manual follow, becoming assignee, commenting, "me
    too", logging a ticket, joining a community), starts the person's feed with the recent history
    of what they now follow, as far as they may see it, once the follow is committed."""
    follow, created = Follow.objects.get_or_create(
        user=user, target_type=target_type, target_key=target_key,
        defaults={"target_id": target_id, "reason": reason},
    )
    if created:
        backfill_on_commit(user_id=user.pk, target_type=target_type, target_key=target_key)
    return follow, created


@transaction.atomic
def follow_create(*, actor: User, target_type: str, key) -> tuple[Follow, bool]:
    """Follow anything the actor may see; their feed starts with its recent history."""
    from .. import walls

    wall = walls.resolve(actor, target_type, key)
    ratelimit.consume(actor=actor, action="follow")
    return follow_write(user=actor, target_type=wall.type, target_key=wall.key, target_id=wall.target_id)


def backfill_on_commit(*, user_id: int, target_type: str, target_key: str) -> None:
    """Copy a newly followed stream's recent history into the feed once the follow is saved.
    It is one small query and insert, so it runs here rather than waiting for a worker."""

    def run():
        try:
            timeline_backfill(user_id=user_id, target_type=target_type, target_key=target_key)
        except Exception:  # noqa: BLE001 - the follow stands; the history just arrives with new activity
            logger.warning("feed backfill for %s %s:%s failed", user_id, target_type, target_key, exc_info=True)

    transaction.on_commit(run)


@transaction.atomic
def follow_delete(*, actor: User, follow_id: int) -> None:
    deleted, _ = Follow.objects.filter(pk=follow_id, user=actor).delete()
    if not deleted:
        raise NotVisible()
    # Where following was what gave access, the person's open sockets lose it now.
    live.recheck_on_commit(user_ids=[actor.pk])


def timeline_backfill(*, user_id: int, target_type: str, target_key: str, limit: int = 50) -> int:
    """Copy the recent activities of a followed stream that the person may see into their feed:
    the same audience rules as the feed itself (internal notes only for staff), nothing about a
    ticket, person or tag they muted, and nothing once the follow is gone again. Safe to repeat."""
    from ..models import TimelineEntry

    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return 0
    if not Follow.objects.filter(user=user, target_type=target_type, target_key=target_key).exists():
        return 0
    stream = f"{target_type}:{target_key}"
    recent = selectors.stream_activities(viewer=user, stream=stream, before=None, limit=limit)
    if not recent:
        return 0
    muted = set(Mute.objects.filter(user=user).values_list("target_type", "target_key"))
    if muted:
        recent = [activity for activity in recent if not fanout.streams_of(activity) & muted]
    TimelineEntry.objects.bulk_create(
        [TimelineEntry(user_id=user.pk, activity_id=a.pk, context=fanout.context_for(a)) for a in recent],
        ignore_conflicts=True,
    )
    return len(recent)


@transaction.atomic
def mute_set(*, actor: User, target_type: str, key, muted: bool = True) -> None:
    """Mute (or unmute) a ticket, person or tag in the actor's feed; muting also clears what is there."""
    from .. import walls

    if target_type not in ("ticket", "user", "tag"):
        raise ApplicationError("Mute a ticket, a person or a tag.", errors={"type": ["Choose ticket, user or tag."]})
    wall = walls.resolve(actor, target_type, key)
    if not muted:
        Mute.objects.filter(user=actor, target_type=wall.type, target_key=wall.key).delete()
        return
    Mute.objects.get_or_create(user=actor, target_type=wall.type, target_key=wall.key)
    from ..models import TimelineEntry

    TimelineEntry.objects.filter(selectors.about_condition(wall.stream), user=actor).delete()
