"""Reads of the event spine shared by pages, the API and the live consumer."""
from __future__ import annotations

from collections.abc import Callable

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import User
from servicedesk.errors import NotVisible
from servicedesk.prepared import prepared

from .audience import user_groups
from .models import Activity, ActivityAudience, ActivityTag, Like, Mute, Notification, Post, PostComment, PostRevision

RESUME_LIMIT = 500


def notifications_for(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).order_by("-id")


def notification_groups(notifications) -> list[dict]:
    """Notifications of one page grouped by the thing they point to, newest group first:
    "3 replies on INC-000042 VPN disconnects" instead of three rows. Notifications without a
    link stay alone. No query: titles come from each notification's activity (select_related)."""
    from . import notification_kinds

    groups: dict[str, dict] = {}
    ordered: list[dict] = []
    for notification in notifications:
        key = notification_target(notification.url) or f"#{notification.pk}"
        group = groups.get(key)
        if group is None:
            group = groups[key] = {"key": key, "url": notification.url, "items": [], "unread": False, "kinds": []}
            ordered.append(group)
        group["items"].append(notification)
        group["unread"] = group["unread"] or not notification.read
        if notification.kind not in group["kinds"]:
            group["kinds"].append(notification.kind)
    for group in ordered:
        newest = group["items"][0]
        group["id"] = newest.pk
        group["at"] = newest.updated_at or newest.created_at
        group["label"] = notification_kinds.badge(newest.kind) if len(group["kinds"]) == 1 else "Updates"
        total = sum(item.count for item in group["items"])
        activity = newest.activity
        title = (activity.target_title or activity.object_title) if activity is not None else ""
        if activity is not None and activity.object_type == "ticket":
            title = activity.object_title
        if total > 1 and title:
            noun = notification_kinds.info(newest.kind).plural if len(group["kinds"]) == 1 else "updates"
            group["headline"] = f"{total} {noun} on {title}"
        else:
            group["headline"] = newest.text
    return ordered


def notification_target(url: str) -> str:
    """The page a notification's link points to, without fragment or query ("/tickets/4/")."""
    return url.split("#", 1)[0].split("?", 1)[0]


def notifications_unread_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read=False).count()


def _visible_to(user, groups: frozenset[str]):
    """`user`: the person or their id."""
    return Exists(
        ActivityAudience.objects.filter(activity=OuterRef("pk")).filter(Q(user=user) | Q(group__in=list(groups)))
    )


def on_streams(streams) -> Q:
    """Activities on any of these streams: as object, as target, or (tag streams) by tag."""
    streams = list(streams)
    tags = [s.split(":", 1)[1] for s in streams if s.startswith("tag:")]
    condition = Q(stream__in=streams) | Q(target_stream__in=streams)
    if tags:
        condition |= Q(Exists(ActivityTag.objects.filter(activity=OuterRef("pk"), tag__in=tags)))
    return condition


def activities_since(*, user: User, since: int, streams: frozenset[str] = frozenset(), limit: int = RESUME_LIMIT,
                     groups: frozenset[str] | None = None) -> list[Activity]:
    """What a live client missed since `since`: activities addressed to the user or in their feed,
    plus those on the streams it subscribes to that the user may see. Oldest first.

    One query, driven by indexes from the user's side: the ids come from the user's timeline (its
    primary key is (user, activity)), their audience rows ((user, activity) index) and the
    subscribed streams (stream indexes), each already limited to ids after `since`, so a resume
    costs the same however many activities everyone else has had since. Pass `groups` when the
    caller knows them (the live consumer does) to save reading them again."""
    if not streams and limit == RESUME_LIMIT and _fits(since):
        # A socket subscribed to nothing (a reconnect storm is thousands of these): compiled once.
        return _missed_addressed.run(user_id=user.pk, since=since)
    return list(_missed(user_id=user.pk, since=since, limit=limit, streams=streams,
                        groups=(user_groups(user) if groups is None else groups) if streams else frozenset()))


def _missed(*, user_id, since, limit: int, streams: frozenset[str] = frozenset(), groups: frozenset[str] = frozenset()):
    from django.db import connection

    from .models import TimelineEntry

    # Each part stops at `limit` ids where the database allows it (PostgreSQL; not SQLite).
    cap = slice(None, limit) if connection.features.supports_slicing_ordering_in_compound else slice(None)
    parts = [
        TimelineEntry.objects.filter(user_id=user_id, activity_id__gt=since)
        .order_by("activity_id").values_list("activity_id", flat=True)[cap],
        ActivityAudience.objects.filter(user_id=user_id, activity_id__gt=since)
        .order_by("activity_id").values_list("activity_id", flat=True)[cap],
    ]
    if streams:
        parts.append(
            Activity.objects.filter(pk__gt=since).filter(on_streams(streams)).filter(_visible_to(user_id, groups))
            .order_by("pk").values_list("pk", flat=True)[cap]
        )
    if cap.stop is None:
        parts = [part.order_by() for part in parts]
    ids = parts[0].union(*parts[1:])
    return Activity.objects.filter(pk__in=ids).select_related("actor").order_by("pk")[:limit]


@prepared(args=("user_id", "since"))
def _missed_addressed(*, user_id, since):
    return _missed(user_id=user_id, since=since, limit=RESUME_LIMIT)


def visible_now(*, user: User, activities: list[Activity], may_see=None) -> list[Activity]:
    """Drop activities about an object whose access gates them (a ticket) that the user may not
    see now, whatever audience rows were written for them: one check per object, not per row.
    `may_see(names) -> {name: bool}` may answer from a fresher cache (the live consumer's)."""
    from . import streams

    decided: dict[str, bool] = {}
    gated_of = {a.pk: streams.gating_streams([a.stream, a.target_stream]) for a in activities}
    wanted = sorted({name for names in gated_of.values() for name in names})
    if may_see is not None and wanted:
        decided.update(may_see(wanted))
    out = []
    for activity in activities:
        gated = gated_of[activity.pk]
        for name in gated:
            if name not in decided:
                decided[name] = streams.may_subscribe(user, name)
        if all(decided[name] for name in gated):
            out.append(activity)
    return out


@prepared(args=("user_id", "since"))
def _notifications_since(*, user_id, since):
    return Notification.objects.filter(recipient_id=user_id, pk__gt=since).order_by("pk")[:RESUME_LIMIT]


@prepared(args=("user_id", "activity_id"))
def _notifications_after_activity(*, user_id, activity_id):
    return Notification.objects.filter(recipient_id=user_id, activity_id__gt=activity_id).order_by("pk")[:RESUME_LIMIT]


def _fits(value: int) -> bool:
    """An id a compiled statement can take (a bigint); larger ones go through the ORM, which finds nothing."""
    return 0 <= value < 2**63


def notifications_since(*, user: User, since: int, limit: int = RESUME_LIMIT) -> list[Notification]:
    if limit == RESUME_LIMIT and _fits(since):
        # Every resume runs one of these two (a reconnect storm is thousands): compiled once.
        return _notifications_since.run(user_id=user.pk, since=since)
    return list(Notification.objects.filter(recipient=user, pk__gt=since).order_by("pk")[:limit])


def notifications_after_activity(*, user: User, activity_id: int, limit: int = RESUME_LIMIT) -> list[Notification]:
    """For clients that only track activity ids: the notifications their missed activities caused."""
    if limit == RESUME_LIMIT and _fits(activity_id):
        return _notifications_after_activity.run(user_id=user.pk, activity_id=activity_id)
    return list(Notification.objects.filter(recipient=user, activity_id__gt=activity_id).order_by("pk")[:limit])


def page_marks(user: User) -> tuple[int, int, int]:
    """(newest activity id, the user's newest notification id, their unread count) in one query:
    what a page shows is everything up to these ids (see feeds.middleware)."""
    from servicedesk.prepared import prepared_cursor

    activities, notifications = Activity._meta.db_table, Notification._meta.db_table
    with prepared_cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT MAX(id) FROM {activities}),"  # noqa: S608 - table names from the models
            f" (SELECT MAX(id) FROM {notifications} WHERE recipient_id = %s),"
            f" (SELECT COUNT(*) FROM {notifications} WHERE recipient_id = %s AND NOT read)",
            [user.pk, user.pk],
        )
        last_activity, last_notification, unread = cursor.fetchone()
    return last_activity or 0, last_notification or 0, unread or 0


FEED_PAGE = 20


def about_condition(about: str) -> Q:
    """Feed entries about one followed thing: its stream, a person's own actions, a tag."""
    kind, _, key = about.partition(":")
    if kind == "tag":
        return Q(activity__tags__tag=key)
    condition = Q(activity__stream=about) | Q(activity__target_stream=about)
    if kind == "user":
        condition |= Q(activity__actor__username=key)
    return condition


def _timeline(*, user: User, context: str, about: str, before: int | None, own: bool = True):
    """The person's timeline entries narrowed to a context, a subject and a cursor; `own=False`
    leaves out what the person did themselves."""
    from .models import TimelineEntry

    entries = TimelineEntry.objects.filter(user=user)
    if not own:
        entries = entries.exclude(activity__actor=user)
    if context != "all":
        entries = entries.filter(context=context)
    if about:
        entries = entries.filter(about_condition(about))
    if before is not None:
        entries = entries.filter(activity_id__lt=before)
    return entries


def feed_page(*, user: User, context: str = "all", before: int | None = None, limit: int = FEED_PAGE,
              about: str = "", own: bool = True) -> tuple[list[Activity], int | None]:
    """One page of the person's feed, newest first: one indexed query on their timeline, joined to
    the activities and their actors, whatever they follow. Returns the page and the next cursor.
    `own=False` leaves out what the person did themselves (the feed page's default)."""
    entries = _timeline(user=user, context=context, about=about, before=before, own=own)
    rows = list(entries.select_related("activity", "activity__actor").order_by("-activity_id")[: limit + 1])
    page = [row.activity for row in rows[:limit]]
    return page, (page[-1].pk if len(rows) > limit else None)


def stream_activities(*, viewer: User, stream: str, before: int | None, limit: int = FEED_PAGE) -> list[Activity]:
    """What happened on a wall or stream that the viewer may see, newest first."""
    groups = user_groups(viewer)
    qs = Activity.objects.filter(on_streams([stream])).filter(_visible_to(viewer, groups))
    if before is not None:
        qs = qs.filter(pk__lt=before)
    return list(qs.select_related("actor").order_by("-pk")[:limit])


def follows_of(user: User):
    from .models import Follow

    return Follow.objects.filter(user=user).order_by("-id")


def followers_of(*, target_type: str, target_key: str):
    from .models import Follow

    return Follow.objects.filter(target_type=target_type, target_key=target_key).select_related("user").order_by("-id")


def open_stream_activities(*, stream: str, limit: int = 50) -> list[Activity]:
    """Only what everyone signed in may see: a feed link can be shared, so nothing addressed to
    its owner alone goes into it."""
    from .audience import SIGNED_IN

    everyone = Exists(ActivityAudience.objects.filter(activity=OuterRef("pk"), group=SIGNED_IN))
    qs = Activity.objects.filter(on_streams([stream])).filter(everyone)
    return list(qs.select_related("actor").order_by("-pk")[:limit])


_FEED_COLUMNS = (
    "activity_id", "activity__verb", "activity__actor__username", "activity__object_type", "activity__object_key",
    "activity__object_title", "activity__target_type", "activity__target_key", "activity__target_title",
    "activity__summary", "activity__created_at",
)


def feed_payloads(*, user: User, context: str = "all", before: int | None = None, limit: int = FEED_PAGE,
                  about: str = "") -> tuple[list[dict], int | None]:
    """`feed_page` in the API's shape, read as plain rows: building models for twenty activities
    and their actors costs more than the indexed query itself."""
    if context == "all" and not about and limit == FEED_PAGE and (before is None or before < 2**63):
        # The page every client asks for most: its SQL is compiled once per process.
        rows = (_feed_first_page.run(user_id=user.pk) if before is None
                else _feed_page_before.run(user_id=user.pk, before=before))
    else:
        entries = _timeline(user=user, context=context, about=about, before=before)
        rows = list(entries.order_by("-activity_id").values_list(*_FEED_COLUMNS)[: limit + 1])
    page = [
        {
            "id": aid,
            "verb": verb,
            "actor": {"username": actor} if actor else None,
            "object": {"type": otype, "key": okey, "title": otitle} if otype else None,
            "target": {"type": ttype, "key": tkey, "title": ttitle} if ttype else None,
            "summary": summary,
            "created_at": created.isoformat(),
        }
        for aid, verb, actor, otype, okey, otitle, ttype, tkey, ttitle, summary, created in rows[:limit]
    ]
    return page, (page[-1]["id"] if len(rows) > limit else None)


# The person is a bare id in these builders: `_timeline` filters by it and reads nothing else of them.
@prepared(args=("user_id",))
def _feed_first_page(*, user_id):
    entries = _timeline(user=User(pk=user_id), context="all", about="", before=None)
    return entries.order_by("-activity_id").values_list(*_FEED_COLUMNS)[: FEED_PAGE + 1]


@prepared(args=("user_id", "before"))
def _feed_page_before(*, user_id, before):
    entries = _timeline(user=User(pk=user_id), context="all", about="", before=before)
    return entries.order_by("-activity_id").values_list(*_FEED_COLUMNS)[: FEED_PAGE + 1]


def saved_feed_filters(user: User):
    from .models import SavedFeedFilter

    return SavedFeedFilter.objects.filter(user=user).order_by("name")


def post_visible(*, viewer: User, post_id):
    """A live post on a wall the viewer may see; NotVisible otherwise."""
    from . import walls

    post = Post.objects.select_related("author").filter(pk=post_id, deleted_at__isnull=True).first() if str(post_id).isdecimal() else None
    if post is None:
        raise NotVisible()
    walls.resolve(viewer, post.wall_type, post.wall_key)  # raises NotVisible
    return post


def posts_liked(*, viewer: User, post_ids) -> set[int]:
    """Which of these posts the viewer liked: one query (none for no posts)."""
    post_ids = list(post_ids)
    return set(Like.objects.filter(user=viewer, post_id__in=post_ids).values_list("post_id", flat=True)) if post_ids else set()


def posts_with_likes(*, viewer: User, post_ids) -> tuple[dict[int, Post], set[int]]:
    """Live posts by id, in one query, and which of them the viewer liked, in one more."""
    posts = {p.pk: p for p in Post.objects.filter(pk__in=post_ids, deleted_at__isnull=True).select_related("author")}
    return posts, posts_liked(viewer=viewer, post_ids=posts)


def post_thread(*, viewer: User, post: Post, with_revisions: bool) -> dict:
    """What a post's page shows around it: live comments, edit history (when asked) and the viewer's like."""
    return {
        "comments": list(PostComment.objects.filter(post=post, deleted_at__isnull=True).select_related("author").order_by("pk")),
        "revisions": list(PostRevision.objects.filter(post=post).select_related("edited_by").order_by("-pk")) if with_revisions else [],
        "liked": Like.objects.filter(post=post, user=viewer).exists(),
    }


def is_muted(*, user: User, target_type: str, target_key: str) -> bool:
    return Mute.objects.filter(user=user, target_type=target_type, target_key=target_key).exists()


# Apps above feeds add their own follow suggestions and wall owners (``TicketsConfig.ready``).
_suggestion_providers: dict[str, Callable] = {}
_wall_owners: dict[str, Callable] = {}


def register_follow_suggestions(key: str, provider: Callable) -> None:
    """``provider(user=, followed=, limit=)`` returns things to suggest following; they reach the
    page as ``key``."""
    _suggestion_providers[key] = provider


def register_wall_owner(wall_type: str, owner: Callable) -> None:
    """``owner(target_id)`` returns the page context naming whom a wall of that type belongs to."""
    _wall_owners[wall_type] = owner


def follow_suggestions(user: User, *, limit: int) -> dict:
    """For an empty feed: a few people in the person's team and services they have tickets on,
    not already followed."""
    from .models import Follow

    followed = Follow.objects.filter(user=user)
    people = []
    if user.team_id:
        people = list(
            User.objects.filter(team_id=user.team_id, is_active=True)
            .exclude(pk=user.pk)
            .exclude(username__in=followed.filter(target_type="user").values("target_key"))
            .order_by("display_name", "username")[:limit]
        )
    suggestions = {"suggested_people": people}
    for key, provider in _suggestion_providers.items():
        suggestions[key] = provider(user=user, followed=followed, limit=limit)
    return suggestions


def wall_owner(wall) -> dict:
    """The person or service a wall belongs to, for the page's header."""
    if wall.type == "user":
        return {"person": User.objects.select_related("team").get(pk=wall.target_id)}
    owner = _wall_owners.get(wall.type)
    return owner(wall.target_id) if owner else {}


MENTION_SUGGESTIONS = 8


def mention_candidates(*, viewer: User, text: str, place: str) -> list[User]:
    """People whose username or name starts with `text` and who may see `place` (a wall,
    "type:key"): mentioning anyone else would notify nobody. Two queries whatever the size."""
    from . import fanout, walls

    wall_type, _, key = place.partition(":")
    wall = walls.resolve(viewer, wall_type, key)
    matches = (
        User.objects.filter(is_active=True)
        .filter(Q(username__istartswith=text) | Q(display_name__istartswith=text) | Q(display_name__icontains=f" {text}"))
        .exclude(pk=viewer.pk)
        .order_by("username")[: MENTION_SUGGESTIONS * 4]
    )
    return fanout.admitted_people(wall.audience, matches)[:MENTION_SUGGESTIONS]


POPULAR_DAYS = 7
POPULAR_CANDIDATES = 100


def popular_posts(*, viewer: User, now=None, limit: int = FEED_PAGE) -> list[Post]:
    """"Popular this week": live posts of the last seven days on walls the viewer may see, ranked
    by likes, comments (twice a like) and the engagement of people the viewer follows (twice
    again), decayed with age (a day-old post counts 1/2.8 of a fresh one). Three queries: the
    viewer's groups, the candidates with their counts, and which of them the viewer liked."""
    from datetime import timedelta

    from django.db.models import Count, F
    from django.utils import timezone

    from .models import Follow

    now = now or timezone.now()
    groups = user_groups(viewer)
    followed = Follow.objects.filter(user=viewer, target_type=Follow.Type.USER, target_id__isnull=False).values("target_id")
    visible = Exists(
        ActivityAudience.objects.filter(activity=OuterRef("activity_id")).filter(Q(user=viewer) | Q(group__in=list(groups)))
    )
    candidates = list(
        Post.objects.filter(deleted_at__isnull=True, created_at__gte=now - timedelta(days=POPULAR_DAYS), activity__isnull=False)
        .filter(visible)
        .annotate(
            followed_likes=Count("likes", filter=Q(likes__user_id__in=followed), distinct=True),
            followed_comments=Count("comments", filter=Q(comments__author_id__in=followed, comments__deleted_at__isnull=True),
                                    distinct=True),
        )
        .select_related("author", "activity", "activity__actor")
        .order_by((F("like_count") + F("comment_count") * 2).desc(), "-id")[:POPULAR_CANDIDATES]
    )

    def score(post: Post) -> float:
        engagement = post.like_count + 2 * post.comment_count + 2 * (post.followed_likes + post.followed_comments)
        age_days = max(0.0, (now - post.created_at).total_seconds() / 86400)
        return engagement / (1 + age_days) ** 1.5

    ranked = sorted(candidates, key=lambda post: (score(post), post.pk), reverse=True)[:limit]
    for post in ranked:
        post.popularity = round(score(post), 2)
    return ranked
