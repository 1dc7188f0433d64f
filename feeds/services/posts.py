"""Posts on walls, their comments and likes, mentions, and narrowing a stream's audience."""

from __future__ import annotations

import re

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import User
from servicedesk import hooks, ratelimit
from servicedesk.errors import ApplicationError, Forbidden

from .. import fanout, live, selectors
from ..audience import Audience
from ..models import Activity, ActivityAudience
from ._common import NotificationSpec, ObjectRef
from .publishing import activity_publish

MENTION_RE = re.compile(r"(?<![\w@])@([A-Za-z0-9_.+\-]{1,150})")


HASHTAG_RE = re.compile(r"(?<![\w&#])#([A-Za-z0-9][A-Za-z0-9_\-]{0,49})")


def _mentions_and_tags(body: str) -> tuple[list[str], list[str]]:
    mentions = sorted({m.rstrip(".") for m in MENTION_RE.findall(body)})
    tags = sorted({t.lower() for t in HASHTAG_RE.findall(body)})
    return mentions, tags


def mentions_check(*, actor: User, body: str) -> None:
    """One text may mention at most `MENTIONS_MAX` distinct people (the author aside)."""
    names = {m.rstrip(".").lower() for m in MENTION_RE.findall(body or "")} - {actor.username.lower()}
    if len(names) > settings.MENTIONS_MAX:
        message = f"Mention at most {settings.MENTIONS_MAX} people at once ({len(names)} here)."
        raise ApplicationError(message, errors={"body": [message]})


def _mentioned_on_wall(actor: User, wall, body: str, *, before: str = "") -> list[User]:
    """The people `body` mentions who may see the wall (the author aside), leaving out those
    `before` already mentioned: an edit tells only the newly named."""
    names = set(_mentions_and_tags(body)[0]) - set(_mentions_and_tags(before)[0]) - {actor.username}
    if not names:
        return []
    return fanout.admitted_people(wall.audience, User.objects.filter(username__in=sorted(names), is_active=True))


def _publish_mentions(actor: User, post, wall, people: list[User], *, where: str, url: str) -> None:
    if not people:
        return
    activity_publish(
        actor=actor, verb="mentioned", obj=_post_ref(post), target=ObjectRef(wall.type, wall.key, wall.title),
        audience=Audience.of(users=[actor.pk, *(p.pk for p in people)], groups=wall.audience.groups),
        summary=f"{actor.display_name} mentioned {', '.join(p.display_name or p.username for p in people)} {where} {wall.title}",
        notify=people, notification=NotificationSpec(
            kind="post.mention", text=f"{actor.display_name} mentioned you {where} {wall.title}", url=url
        ),
        data={"post": post.pk},
    )


def _post_ref(post) -> ObjectRef:
    first = (post.body.strip().splitlines() or [""])[0]
    return ObjectRef("post", str(post.pk), first[:120])


def _check_body(body: str) -> str:
    if not isinstance(body, str) or not body.strip():
        raise ApplicationError("Write something first.", errors={"body": ["This field may not be blank."]})
    if len(body) > 10_000:
        raise ApplicationError("That is too long.", errors={"body": ["Keep it under 10,000 characters."]})
    return body.strip()


@transaction.atomic
def post_create(*, actor: User, wall_type: str, wall_key, body: str):
    from servicedesk import markdown

    from .. import walls
    from ..models import Post

    body = _check_body(body)
    wall = walls.resolve(actor, wall_type, wall_key)
    walls.require_posting(wall)
    mentions_check(actor=actor, body=body)
    ratelimit.consume(actor=actor, action="post")
    mentions, tags = _mentions_and_tags(body)
    post = Post.objects.create(
        author=actor, wall_type=wall.type, wall_key=wall.key, body=body, body_html=markdown.render(body), tags=tags
    )
    # Mentioned people hear of it only if they may see the wall.
    mentioned = fanout.admitted_people(wall.audience, User.objects.filter(username__in=mentions, is_active=True))
    addressed = {actor.pk, *(u.pk for u in mentioned)}
    owner = None
    if wall.type == "user" and wall.target_id != actor.pk:
        owner = User.objects.filter(pk=wall.target_id).first()
        if owner is not None:
            addressed.add(owner.pk)
    audience = Audience.of(users=addressed | set(wall.audience.users), groups=wall.audience.groups)
    activity = activity_publish(
        actor=actor, verb="posted", obj=_post_ref(post), target=ObjectRef(wall.type, wall.key, wall.title),
        audience=audience, summary=f"{actor.display_name} posted on {wall.title}: {body.splitlines()[0][:140]}",
        notify=mentioned, notification=NotificationSpec(
            kind="post.mention", text=f"{actor.display_name} mentioned you on {wall.title}", url=f"/posts/{post.pk}/"
        ),
        data={"post": post.pk, "tags": tags},
    )
    if owner is not None and owner not in mentioned:
        activity_publish(
            actor=actor, verb="posted_on_wall", obj=_post_ref(post), target=ObjectRef(wall.type, wall.key, wall.title),
            audience=Audience.of(users=[owner.pk]), summary=f"{actor.display_name} wrote on your wall",
            notify=[owner], notification=NotificationSpec(
                kind="post.wall", text=f"{actor.display_name} wrote on your wall", url=f"/posts/{post.pk}/"
            ),
        )
    post.activity = activity
    post.save(update_fields=["activity"])
    hooks.text_written(author=actor, text=body, obj=post, field="body")
    return post


def _wall_open_to(actor: User, post):
    """The post's wall, if the actor may still take part there (write, edit, like); a community
    moderator's removal closes it."""
    from .. import walls

    wall = walls.resolve(actor, post.wall_type, post.wall_key)
    walls.require_posting(wall)
    return wall


@transaction.atomic
def post_edit(*, actor: User, post_id, body: str):
    from servicedesk import markdown

    from ..models import PostRevision

    post = selectors.post_visible(viewer=actor, post_id=post_id)
    if post.author_id != actor.pk:
        raise Forbidden("Only the author edits a post.")
    wall = _wall_open_to(actor, post)
    body = _check_body(body)
    mentions_check(actor=actor, body=body)
    newly_mentioned = _mentioned_on_wall(actor, wall, body, before=post.body)
    PostRevision.objects.create(post=post, body=post.body, edited_by=actor)
    post.body, post.body_html = body, markdown.render(body)
    post.tags = _mentions_and_tags(body)[1]
    post.edited_at = timezone.now()
    post.save(update_fields=["body", "body_html", "tags", "edited_at"])
    _publish_mentions(actor, post, wall, newly_mentioned, where="in an edited post on", url=f"/posts/{post.pk}/")
    hooks.text_written(author=actor, text=body, obj=post, field="body")
    return post


@transaction.atomic
def post_delete(*, actor: User, post_id) -> None:
    """The author or a moderator removes a post; it leaves every feed and wall."""
    post = selectors.post_visible(viewer=actor, post_id=post_id)
    if post.author_id != actor.pk and not actor.is_agent:
        raise Forbidden("Only the author or a moderator removes a post.")
    post.deleted_at = timezone.now()
    post.save(update_fields=["deleted_at"])
    Activity.objects.filter(object_type="post", object_key=str(post.pk)).delete()


@transaction.atomic
def post_comment_add(*, actor: User, post_id, body: str):
    from servicedesk import markdown

    from ..models import Post, PostComment

    post = selectors.post_visible(viewer=actor, post_id=post_id)
    body = _check_body(body)
    wall = _wall_open_to(actor, post)
    mentions_check(actor=actor, body=body)
    ratelimit.consume(actor=actor, action="comment")
    comment = PostComment.objects.create(post=post, author=actor, body=body, body_html=markdown.render(body))
    Post.objects.filter(pk=post.pk).update(comment_count=F("comment_count") + 1)
    author = [post.author] if post.author_id != actor.pk else []
    activity_publish(
        actor=actor, verb="commented", obj=_post_ref(post), target=ObjectRef(wall.type, wall.key, wall.title),
        audience=Audience.of(users={actor.pk, post.author_id}, groups=wall.audience.groups),
        summary=f"{actor.display_name} commented on a post on {wall.title}: {body.splitlines()[0][:140]}",
        notify=author, notification=NotificationSpec(
            kind="post.comment", text=f"{actor.display_name} commented on your post", url=f"/posts/{post.pk}/"
        ),
        data={"post": post.pk, "comment": comment.pk},
    )
    # The post's author already hears of the comment; the others named in it hear of the mention.
    mentioned = [p for p in _mentioned_on_wall(actor, wall, body) if p.pk != post.author_id]
    _publish_mentions(actor, post, wall, mentioned, where="in a comment on", url=f"/posts/{post.pk}/#comment-{comment.pk}")
    hooks.text_written(author=actor, text=body, obj=comment, field="body")
    return comment


@transaction.atomic
def like_add(*, actor: User, post_id):

    from ..models import Like, Post

    post = selectors.post_visible(viewer=actor, post_id=post_id)
    if post.author_id == actor.pk:
        raise ApplicationError("You cannot like your own post.")
    _wall_open_to(actor, post)
    ratelimit.consume(actor=actor, action="like")
    try:
        with transaction.atomic():
            Like.objects.create(post=post, user=actor)
    except IntegrityError:
        return post
    Post.objects.filter(pk=post.pk).update(like_count=F("like_count") + 1)
    post.refresh_from_db(fields=["like_count"])
    hooks.like_added(post=post, actor=actor)
    activity_publish(
        actor=actor, verb="liked", obj=_post_ref(post), audience=Audience.of(users=[post.author_id]),
        summary=f"{actor.display_name} liked your post", notify=[post.author],
        notification=NotificationSpec(kind="post.like", text=f"{actor.display_name} liked your post", url=f"/posts/{post.pk}/"),
        data={"post": post.pk},
    )
    return post


@transaction.atomic
def like_remove(*, actor: User, post_id):
    from ..models import Like, Post

    post = selectors.post_visible(viewer=actor, post_id=post_id)
    ratelimit.consume(actor=actor, action="like")
    deleted, _ = Like.objects.filter(post=post, user=actor).delete()
    if deleted:
        Post.objects.filter(pk=post.pk, like_count__gt=0).update(like_count=F("like_count") - 1)
        hooks.like_removed(post=post, actor=actor)
    post.refresh_from_db(fields=["like_count"])
    return post


@transaction.atomic
def audience_restrict(*, stream: str, allowed: Audience) -> int:
    """Access to an object narrowed (a ticket turned private, someone left a private community):
    its past activities stop reaching anyone the new audience does not admit, in feeds, walls,
    streams and resume alike. Returns how many feed entries were withdrawn."""
    from ..models import TimelineEntry

    activity_ids = list(
        Activity.objects.filter(Q(stream=stream) | Q(target_stream=stream)).values_list("pk", flat=True)
    )
    if not activity_ids:
        return 0
    ActivityAudience.objects.filter(activity_id__in=activity_ids).exclude(group="").exclude(
        group__in=list(allowed.groups)
    ).delete()
    entries = list(
        TimelineEntry.objects.filter(activity_id__in=activity_ids).values_list("user_id", "activity_id", "user__role", "user__is_active")
    )
    # Per-user audience rows are withdrawn from everyone the new audience does not admit, whether or
    # not the activity is in their feed (someone who muted the object has no feed entry, but their
    # row would still let `resume` replay it).
    addressed = list(
        ActivityAudience.objects.filter(activity_id__in=activity_ids, user__isnull=False)
        .values_list("user_id", "user__role", "user__is_active").distinct()
    )
    people = {(uid, role if active else "") for uid, _, role, active in entries}
    people |= {(uid, role if active else "") for uid, role, active in addressed}
    kept = set(fanout.admitted(allowed, sorted(people)))
    # Whoever may still see the object itself (a private ticket's requester) keeps what they had.
    from .. import streams

    others = [uid for uid, _ in people if uid not in kept]
    kept |= {u.pk for u in User.objects.filter(pk__in=others, is_active=True) if streams.may_subscribe(u, stream)}
    withdrawn = [(uid, aid) for uid, aid, _, _ in entries if uid not in kept]
    for user_id in {u for u, _ in withdrawn}:
        ids = [a for u, a in withdrawn if u == user_id]
        TimelineEntry.objects.filter(user_id=user_id, activity_id__in=ids).delete()
    ActivityAudience.objects.filter(activity_id__in=activity_ids, user__isnull=False).exclude(user_id__in=kept).delete()
    # Open sockets on the stream, and those of the people who lost it, re-check their access now.
    live.recheck_on_commit(user_ids=[uid for uid, _ in people if uid not in kept], stream_names=[stream])
    return len(withdrawn)
