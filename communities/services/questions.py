"""Questions and answers: asking, tagging, answering, voting and accepting."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from feeds.services import NotificationSpec, ObjectRef, activity_publish, mentions_check
from servicedesk import hooks, markdown, ratelimit
from servicedesk.errors import ApplicationError, Forbidden, NotVisible
from servicedesk.text import one_line

from .. import live, selectors
from ..models import Answer, Community, Membership, Question, Vote
from ._common import community_audience, community_ref
from .mentions import _publish_mentions


def _check_text(title: str | None, body: str) -> None:
    errors = {}
    if title is not None and (not title.strip() or len(title) > 200):
        errors["title"] = ["Give a title of up to 200 characters."]
    if title is None and not body.strip():
        errors["body"] = ["This field may not be blank."]
    if len(body) > 20_000:
        errors["body"] = ["Keep it under 20,000 characters."]
    if errors:
        raise ApplicationError("That could not be posted.", errors=errors)


def _require_member(actor: User, community: Community) -> None:
    """May take part: read access, and not removed by a moderator (open communities let anyone in)."""
    if not selectors.can_read(actor, community):
        raise NotVisible()
    if not Membership.objects.filter(community=community, user=actor).exists() and community.is_private:
        raise NotVisible()
    if selectors.is_barred(actor, community):
        raise Forbidden(selectors.REMOVED_MESSAGE)


@transaction.atomic
def question_ask(*, actor: User, community: Community, title: str, body: str = "", tags: Iterable[str] | str = ()) -> Question:
    _require_member(actor, community)
    _check_text(title, body)
    clean_tags = question_tags_clean(tags)
    mentions_check(actor=actor, body=body)
    ratelimit.consume(actor=actor, action="post")
    question = Question.objects.create(
        community=community, author=actor, title=one_line(title), body=body, body_html=markdown.render(body),
        tags=clean_tags, last_activity_at=timezone.now(),
    )
    activity_publish(
        actor=actor, verb="asked", obj=ObjectRef("question", str(question.pk), question.title),
        target=community_ref(community), audience=community_audience(community, users=[actor.pk]),
        summary=f"{actor.display_name} asked in {community.name}: {question.title}",
    )
    _publish_mentions(actor=actor, community=community, obj=ObjectRef("question", str(question.pk), question.title),
                      body=body, url=question.get_absolute_url())
    hooks.text_written(author=actor, text=question.title, obj=question, field="title")
    if body.strip():
        hooks.text_written(author=actor, text=body, obj=question, field="body")
    return question


QUESTION_MAX_TAGS = 5


QUESTION_TAG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9+#.\-]{0,29}$")


def question_tags_clean(raw: Iterable[str] | str) -> list[str]:
    """"VPN, Home office" -> ["home-office", "vpn"]: lower case, words joined by hyphens, at most 5."""
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    tags = sorted({"-".join(str(item).lower().split()) for item in items if str(item).strip()})
    if len(tags) > QUESTION_MAX_TAGS:
        raise ApplicationError("Too many tags.", errors={"tags": [f"Use at most {QUESTION_MAX_TAGS} tags."]})
    wrong = [tag for tag in tags if not QUESTION_TAG_PATTERN.match(tag)]
    if wrong:
        raise ApplicationError("Check the tags.", errors={
            "tags": [f"“{wrong[0][:30]}” is not a tag: use up to 30 letters, digits, hyphens, dots, + or #."]})
    return tags


QUESTION_VIEW_WINDOW_SECONDS = 6 * 3600


def question_viewed(*, viewer: User, question: Question) -> None:
    """Count a reader once per question per six hours (a reload or a live refresh is not a view)."""
    if not viewer.is_authenticated or viewer.pk == question.author_id:
        return
    if cache.add(f"question-view:{question.pk}:{viewer.pk}", 1, QUESTION_VIEW_WINDOW_SECONDS):
        Question.objects.filter(pk=question.pk).update(view_count=F("view_count") + 1)


@transaction.atomic
def answer_post(*, actor: User, question: Question, body: str) -> Answer:
    community = question.community
    _require_member(actor, community)
    _check_text(None, body)
    mentions_check(actor=actor, body=body)
    ratelimit.consume(actor=actor, action="comment")
    answer = Answer.objects.create(question=question, author=actor, body=body, body_html=markdown.render(body))
    Question.objects.filter(pk=question.pk).update(answer_count=F("answer_count") + 1, last_activity_at=timezone.now())
    asker = [question.author] if question.author_id != actor.pk else []
    activity_publish(
        actor=actor, verb="answered", obj=ObjectRef("question", str(question.pk), question.title),
        target=community_ref(community), audience=community_audience(community, users=[actor.pk, question.author_id]),
        summary=f"{actor.display_name} answered: {question.title}", notify=asker,
        notification=NotificationSpec(kind="community.answer", text=f"{actor.display_name} answered your question: {question.title}",
                                      url=f"{question.get_absolute_url()}#answer-{answer.pk}"),
        data={"answer": answer.pk},
    )
    _publish_mentions(actor=actor, community=community, obj=ObjectRef("question", str(question.pk), question.title),
                      body=body, url=f"{question.get_absolute_url()}#answer-{answer.pk}")
    hooks.text_written(author=actor, text=body, obj=answer, field="body")
    return answer


@transaction.atomic
def answer_vote(*, actor: User, answer: Answer, value: int) -> Answer:
    if value not in (1, -1):
        raise ApplicationError("Vote up or down.", errors={"value": ["Give 1 or -1."]})
    _require_member(actor, answer.question.community)
    if answer.author_id == actor.pk:
        raise ApplicationError("You cannot vote on your own answer.")
    try:
        with transaction.atomic():
            vote = Vote.objects.create(answer=answer, user=actor, value=value)
    except IntegrityError:
        raise ApplicationError("You already voted on this answer.") from None
    hooks.answer_voted(vote=vote, answer=answer)
    Answer.objects.filter(pk=answer.pk).update(score=F("score") + value)
    live.answers_changed(answer.question_id)
    answer.refresh_from_db(fields=["score"])
    return answer


@transaction.atomic
def answer_accept(*, actor: User, answer: Answer) -> Question:
    question = Question.objects.select_for_update(of=("self",)).select_related("community").get(pk=answer.question_id)
    community = question.community
    if not selectors.can_read(actor, community):
        raise NotVisible()
    if actor.pk != question.author_id and not selectors.is_moderator(actor, community):
        raise Forbidden("Only the person who asked, or a moderator, accepts an answer.")
    if selectors.is_barred(actor, community):
        raise Forbidden(selectors.REMOVED_MESSAGE)
    if question.accepted_answer_id == answer.pk:
        return question
    previous_answer_id = question.accepted_answer_id
    question.accepted_answer = answer
    question.last_activity_at = timezone.now()
    question.save(update_fields=["accepted_answer", "last_activity_at"])
    hooks.answer_accepted(answer=answer, actor=actor, previous_answer_id=previous_answer_id)
    live.answers_changed(question.pk)
    author = [answer.author] if answer.author_id != actor.pk else []
    activity_publish(
        actor=actor, verb="accepted", obj=ObjectRef("question", str(question.pk), question.title),
        target=community_ref(community), audience=community_audience(community, users=[actor.pk, answer.author_id]),
        summary=f"An answer to \u201c{question.title}\u201d was accepted", notify=author,
        notification=NotificationSpec(kind="community.accepted", text=f"Your answer was accepted: {question.title}",
                                      url=f"{question.get_absolute_url()}#answer-{answer.pk}"),
        data={"answer": answer.pk, "answer_author": answer.author_id},
    )
    return question


@transaction.atomic
def answer_unaccept(*, actor: User, answer: Answer) -> Question:
    """The asker or a moderator takes the acceptance back; what it earned is reversed."""
    question = Question.objects.select_for_update(of=("self",)).select_related("community").get(pk=answer.question_id)
    if not selectors.can_read(actor, question.community):
        raise NotVisible()
    if actor.pk != question.author_id and not selectors.is_moderator(actor, question.community):
        raise Forbidden("Only the person who asked, or a moderator, takes an acceptance back.")
    if selectors.is_barred(actor, question.community):
        raise Forbidden(selectors.REMOVED_MESSAGE)
    if question.accepted_answer_id != answer.pk:
        raise ApplicationError("That answer is not the accepted one.")
    question.accepted_answer = None
    question.save(update_fields=["accepted_answer"])
    hooks.answer_unaccepted(answer=answer)
    live.answers_changed(question.pk)
    return question
