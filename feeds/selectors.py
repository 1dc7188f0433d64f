"""Reads of the event spine shared by pages, the API and the live consumer."""
from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import User

from .audience import user_groups
from .models import Activity, ActivityAudience, Notification

RESUME_LIMIT = 500


def notifications_for(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).order_by("-id")


def notifications_unread_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read=False).count()


def _visible_to(user: User, groups: frozenset[str]):
    return Exists(
        ActivityAudience.objects.filter(activity=OuterRef("pk")).filter(Q(user=user) | Q(group__in=list(groups)))
    )


def activities_since(*, user: User, since: int, streams: frozenset[str] = frozenset(), limit: int = RESUME_LIMIT) -> list[Activity]:
    """What a live client missed since `since`: activities addressed to the user, plus those on
    the streams it subscribes to that the user may see. Oldest first, as they happened."""
    groups = user_groups(user)
    addressed = Exists(ActivityAudience.objects.filter(activity=OuterRef("pk"), user=user))
    condition = Q(addressed)
    if streams:
        condition |= (Q(stream__in=list(streams)) | Q(target_stream__in=list(streams))) & Q(_visible_to(user, groups))
    return list(
        Activity.objects.filter(pk__gt=since).filter(condition).select_related("actor").order_by("pk")[:limit]
    )


def notifications_since(*, user: User, since: int, limit: int = RESUME_LIMIT) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user, pk__gt=since).order_by("pk")[:limit])


def notifications_after_activity(*, user: User, activity_id: int, limit: int = RESUME_LIMIT) -> list[Notification]:
    """For clients that only track activity ids: the notifications their missed activities caused."""
    return list(Notification.objects.filter(recipient=user, activity_id__gt=activity_id).order_by("pk")[:limit])


def last_ids(user: User) -> tuple[int, int]:
    last_activity = Activity.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    last_notification = notifications_for(user).values_list("pk", flat=True).first() or 0
    return last_activity, last_notification
