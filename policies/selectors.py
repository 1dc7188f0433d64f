"""Reads of the policies domain, shared by pages and the API, with who may read what."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.models import Role, User
from servicedesk.errors import NotVisible

from .models import (
    AuditEntry,
    Channel,
    DlpFlag,
    ExternalChannelPreference,
    ListeningItem,
    ListeningRule,
    ListeningSource,
    OutboundPost,
    OutboundStatus,
    Policy,
)


def is_admin(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and (user.role == Role.ADMIN or user.is_superuser))


def can_review(user) -> bool:
    """Admins and managers (the desk's moderators) approve, reject and resolve outbound posts."""
    return bool(getattr(user, "is_authenticated", False) and user.is_active and (user.role in (Role.ADMIN, Role.MANAGER) or user.is_superuser))


def can_listen(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.is_agent)


def reviewers() -> QuerySet[User]:
    return User.objects.filter(role__in=(Role.ADMIN, Role.MANAGER), is_active=True)


def other_reviewers(user) -> QuerySet[User]:
    """Everyone but `user` who may approve outbound posts (separation of duties needs one)."""
    return User.objects.filter(Q(role__in=(Role.ADMIN, Role.MANAGER)) | Q(is_superuser=True), is_active=True).exclude(pk=user.pk)


def can_approve(user, post: OutboundPost) -> bool:
    """Whether `user` may approve `post` now: a reviewer, and not its author while another reviewer exists."""
    if not can_review(user) or post.status != OutboundStatus.PENDING_REVIEW:
        return False
    return post.created_by_id != user.pk or not other_reviewers(user).exists()


def channels() -> QuerySet[Channel]:
    return Channel.objects.annotate(
        policy_count=Count("policies"), active_policy_count=Count("policies", filter=Q(policies__active=True)),
    ).order_by("name")


def policies() -> QuerySet[Policy]:
    return Policy.objects.select_related("channel").prefetch_related("confidential_services").order_by("channel__name", "id")


def post_visible(*, viewer: User, post_id) -> OutboundPost:
    """Reviewers see every post; an agent sees the posts they wrote; nobody else sees any."""
    try:
        post_id = int(post_id)
    except (TypeError, ValueError):
        raise NotVisible() from None
    post = (
        OutboundPost.objects.select_related("channel", "ticket", "created_by", "reviewed_by")
        .prefetch_related("delivery_attempts")
        .filter(pk=post_id)
        .first()
    )
    if post is None or not (can_review(viewer) or (viewer.is_agent and post.created_by_id == viewer.pk)):
        raise NotVisible()
    return post


def review_queue() -> QuerySet[OutboundPost]:
    return (
        OutboundPost.objects.filter(status__in=(OutboundStatus.PENDING_REVIEW, OutboundStatus.AMBIGUOUS))
        .select_related("channel", "ticket", "created_by")
        .order_by("id")
    )


def recent_posts(*, viewer: User, limit: int = 50) -> list[OutboundPost]:
    """The newest posts the viewer may see (all for reviewers, their own for agents)."""
    qs = OutboundPost.objects.select_related("channel", "created_by").order_by("-id")
    if not can_review(viewer):
        qs = qs.filter(created_by=viewer)
    return list(qs[:limit])


def _day_start(value: str) -> datetime | None:
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except (TypeError, ValueError):
        return None
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_entries(*, channel: str = "", status: str = "", actor: str = "", date_from: str = "", date_to: str = "") -> QuerySet[AuditEntry]:
    """Audit rows newest first, narrowed by channel (id or slug), status, actor (username) and dates."""
    qs = AuditEntry.objects.select_related("actor", "channel", "post").order_by("-id")
    if channel:
        qs = qs.filter(channel_id=int(channel)) if channel.isdecimal() else qs.filter(channel__slug=channel)
    if status:
        qs = qs.filter(status=status)
    if actor == "system":
        qs = qs.filter(actor__isnull=True)
    elif actor:
        qs = qs.filter(actor__username=actor)
    start = _day_start(date_from)
    if start:
        qs = qs.filter(at__gte=start)
    end = _day_start(date_to)
    if end:
        qs = qs.filter(at__lt=end + timedelta(days=1))
    return qs


def listening_wall(*, show_all: bool = False) -> QuerySet[ListeningItem]:
    qs = ListeningItem.objects.select_related("source", "ticket").order_by("-id")
    return qs if show_all else qs.filter(on_wall=True)


def listening_sources() -> QuerySet[ListeningSource]:
    return ListeningSource.objects.order_by("name")


def listening_rules() -> QuerySet[ListeningRule]:
    return ListeningRule.objects.order_by("label")


def dlp_flags(*, status: str = DlpFlag.Status.OPEN) -> QuerySet[DlpFlag]:
    qs = DlpFlag.objects.select_related("author", "reviewed_by").order_by("-id")
    return qs.filter(status=status) if status else qs


def offered_channels() -> QuerySet[Channel]:
    return Channel.objects.filter(active=True, offered_to_requesters=True).order_by("name")


def external_channel_counts(*, team_id: int | None = None) -> list[dict]:
    """For the manager's dashboard: each channel offered for ticket updates with how many active
    people (of one team, if given) chose it (a choice of a channel no longer offered is not counted:
    nothing goes there). Two queries whatever the number of people."""
    choices = ExternalChannelPreference.objects.filter(user__is_active=True, channel__isnull=False)
    if team_id:
        choices = choices.filter(user__team_id=team_id)
    chosen = dict(choices.values_list("channel_id").annotate(people=Count("id")).order_by())
    return [{"id": c.pk, "name": c.name, "kind": c.kind, "people": chosen.get(c.pk, 0)} for c in offered_channels()]


def external_channel_payload(user) -> dict:
    """For the notification-preferences API: the channels offered and the one in effect (a choice
    whose channel is no longer offered or active is reported as none: nothing would be sent)."""
    offered = list(offered_channels().values("id", "name"))
    chosen = ExternalChannelPreference.objects.filter(user=user).values_list("channel_id", flat=True).first()
    return {
        "external_channel": chosen if any(c["id"] == chosen for c in offered) else None,
        "external_channels": offered,
    }
