"""Moderation of posts, and comments on answers."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from feeds.audience import Audience
from feeds.services import NotificationSpec, ObjectRef, activity_publish, mentions_check
from servicedesk import hooks, markdown, ratelimit
from servicedesk.errors import ApplicationError, Forbidden

from .. import selectors
from ..models import Answer, Community, Question
from ._common import community_audience, community_ref
from .mentions import _publish_mentions
from .questions import _require_member


def _community_of(item) -> Community:
    from ..models import Answer as AnswerModel

    if isinstance(item, AnswerModel):
        return item.question.community
    return item.community


@transaction.atomic
def content_remove(*, actor: User, item, reason: str):
    """Hide a question, answer, article or idea; the row stays, with who removed it and why."""
    from ..models import Article, Idea, Poll

    community = _community_of(item)
    if community is None:
        # Knowledge outside any community is the service desk's: its staff moderate it.
        if not (actor.is_agent or actor.is_manager or actor.is_admin_role):
            raise Forbidden("Only the service desk's staff remove articles outside communities.")
    else:
        selectors.require_moderator(actor, community, "Only the community's moderators remove posts.")
    reason = (reason or "").strip()
    if not reason or len(reason) > 200:
        raise ApplicationError("Say why, in up to 200 characters.", errors={"reason": ["Give a reason."]})
    model = type(item)
    locked = model.objects.select_for_update().get(pk=item.pk)
    if locked.removed_at is not None:
        return locked
    locked.removed_at, locked.removed_by, locked.removed_reason = timezone.now(), actor, reason
    locked.save(update_fields=["removed_at", "removed_by", "removed_reason"])
    if model is Answer:
        Question.objects.filter(pk=locked.question_id).update(answer_count=F("answer_count") - 1)
        Question.objects.filter(pk=locked.question_id, accepted_answer_id=locked.pk).update(accepted_answer=None)
    kind = {Question: "question", Answer: "answer", Article: "article", Idea: "idea", Poll: "poll"}[model]
    hooks.content_removed(kind=kind, object_id=locked.pk)
    if model is Answer:
        title = Question.objects.values_list("title", flat=True).get(pk=locked.question_id)
    elif model is Poll:
        title = locked.question
    else:
        title = locked.title
    activity_publish(
        actor=actor, verb="removed", obj=ObjectRef(kind, str(locked.pk), title[:200]),
        audience=Audience.of(users=[actor.pk, locked.author_id]),
        summary=f"A moderator removed a {kind}: {reason}",
        notify=[locked.author], notification=NotificationSpec(
            kind="community.removed", text=f"A moderator removed your {kind} “{title[:80]}”: {reason}",
            url=community.get_absolute_url() if community else "/articles/"),
        data={"reason": reason},
    )
    return locked


@transaction.atomic
def answer_comment_add(*, actor: User, answer: Answer, body: str):
    from ..models import AnswerComment

    question = answer.question
    community = question.community
    _require_member(actor, community)
    body = (body or "").strip()
    if not body or len(body) > 2000:
        raise ApplicationError("The comment could not be posted.", errors={"body": ["Write up to 2,000 characters."]})
    mentions_check(actor=actor, body=body)
    ratelimit.consume(actor=actor, action="comment")
    comment = AnswerComment.objects.create(answer=answer, author=actor, body=body, body_html=markdown.render(body))
    url = f"{question.get_absolute_url()}#answer-{answer.pk}"
    activity_publish(
        actor=actor, verb="commented", obj=ObjectRef("question", str(question.pk), question.title),
        target=community_ref(community), audience=community_audience(community, users=[actor.pk, answer.author_id]),
        summary=f"{actor.display_name} commented on an answer: {question.title}", notify=[answer.author],
        notification=NotificationSpec(kind="community.comment", text=f"{actor.display_name} commented on your answer: {question.title}",
                                      url=url),
        data={"answer": answer.pk, "comment": comment.pk},
    )
    _publish_mentions(actor=actor, community=community, obj=ObjectRef("question", str(question.pk), question.title), body=body, url=url)
    hooks.text_written(author=actor, text=body, obj=comment, field="body")
    return comment
