"""Knowledge articles: writing, revising, restoring, helpful votes, reuse and promotion."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from feeds.audience import SIGNED_IN, Audience
from feeds.services import ObjectRef, activity_publish
from servicedesk import hooks, markdown
from servicedesk.errors import ApplicationError, Forbidden, NotVisible
from servicedesk.text import one_line

from .. import selectors
from ..models import Answer, Community, Question
from ._common import community_audience, community_ref
from .questions import _require_member


def _article_audience(article):
    if article.community is not None:
        return community_audience(article.community, users=[article.author_id])
    return Audience.of(users=[article.author_id], groups=[SIGNED_IN])


@transaction.atomic
def article_create(*, actor: User, title: str, body: str, community: Community | None = None, service=None):
    from ..models import Article, ArticleRevision

    if community is not None:
        _require_member(actor, community)
    errors = {}
    if not (title or "").strip() or len(title) > 200:
        errors["title"] = ["Give a title of up to 200 characters."]
    if not (body or "").strip():
        errors["body"] = ["This field may not be blank."]
    if errors:
        raise ApplicationError("The article could not be saved.", errors=errors)
    article = Article.objects.create(
        title=one_line(title), body=body, body_html=markdown.render(body), author=actor, community=community, service=service
    )
    ArticleRevision.objects.create(article=article, number=1, title=article.title, body=body, editor=actor, note="First version")
    hooks.article_published(article=article)
    activity_publish(
        actor=actor, verb="published", obj=ObjectRef("article", str(article.pk), article.title),
        target=community_ref(community) if community else None, audience=_article_audience(article),
        summary=f"{actor.display_name} published \u201c{article.title}\u201d",
    )
    hooks.text_written(author=actor, text=article.title, obj=article, field="title")
    hooks.text_written(author=actor, text=body, obj=article, field="body")
    return article


@transaction.atomic
def article_edit(*, actor: User, article, title: str | None = None, body: str | None = None, note: str = ""):
    """Every edit is a new revision; the previous text stays in the history."""
    from ..models import Article, ArticleRevision

    article = Article.objects.select_for_update(of=("self",)).select_related("community").get(pk=article.pk)
    if not selectors.article_visible(actor, article):
        raise NotVisible()
    if not selectors.can_edit_article(actor, article):
        raise Forbidden(selectors.ARTICLE_EDIT_REFUSED)
    title = article.title if title is None else one_line(title)
    body = article.body if body is None else body
    if not title or len(title) > 200 or not body.strip():
        raise ApplicationError("The article could not be saved.", errors={"body": ["Give a title and some text."]})
    if title == article.title and body == article.body:
        return article
    article.revision += 1
    article.title, article.body, article.body_html = title, body, markdown.render(body)
    article.save(update_fields=["revision", "title", "body", "body_html", "updated_at"])
    ArticleRevision.objects.create(article=article, number=article.revision, title=title, body=body, editor=actor, note=note[:200])
    activity_publish(
        actor=actor, verb="revised", obj=ObjectRef("article", str(article.pk), article.title),
        target=community_ref(article.community) if article.community else None, audience=_article_audience(article),
        summary=f"{actor.display_name} revised \u201c{article.title}\u201d (revision {article.revision})",
    )
    hooks.text_written(author=actor, text=title, obj=article, field="title")
    hooks.text_written(author=actor, text=body, obj=article, field="body")
    return article


@transaction.atomic
def article_restore(*, actor: User, article, number: int):
    """Bring back an old revision as a new one."""
    old = article.revisions.filter(number=number).first()
    if old is None:
        raise NotVisible()
    return article_edit(actor=actor, article=article, title=old.title, body=old.body, note=f"Restored revision {number}")


@transaction.atomic
def article_helpful(*, actor: User, article) -> int:
    from ..models import Article, HelpfulVote

    if not selectors.article_visible(actor, article):
        raise NotVisible()
    if article.author_id == actor.pk:
        raise ApplicationError("You cannot mark your own article helpful.")
    if article.community_id and selectors.is_barred(actor, article.community_id):
        raise Forbidden(selectors.REMOVED_MESSAGE)
    try:
        with transaction.atomic():
            HelpfulVote.objects.create(article=article, user=actor)
    except IntegrityError:
        raise ApplicationError("You already marked this article helpful.") from None
    Article.objects.filter(pk=article.pk).update(helpful_count=F("helpful_count") + 1)
    hooks.article_marked_helpful(article=article, actor=actor)
    article.refresh_from_db(fields=["helpful_count"])
    return article.helpful_count


@transaction.atomic
def article_reuse_record(*, actor: User, article, ticket) -> bool:
    """An agent linked `article` in a reply on `ticket`: counted once per article and ticket, for
    the knowledge's value. True when this is the first time on that ticket."""
    from tickets.selectors import can_see, is_staff

    from ..models import ArticleReuse

    if not is_staff(actor):
        raise Forbidden("Agents link knowledge into replies.")
    if not selectors.article_visible(actor, article) or article.removed_at is not None or not can_see(actor, ticket):
        raise NotVisible()
    _, created = ArticleReuse.objects.get_or_create(article=article, ticket=ticket, defaults={"user": actor})
    return created


@transaction.atomic
def answer_promote(*, actor: User, answer: Answer):
    """Turn an accepted answer into a knowledge article in one step, credited to its author."""
    question = Question.objects.select_related("community").get(pk=answer.question_id)
    community = question.community
    if question.accepted_answer_id != answer.pk:
        raise ApplicationError("Only an accepted answer becomes an article.")
    if actor.pk not in (question.author_id, answer.author_id) and not selectors.is_moderator(actor, community):
        raise Forbidden("The asker, the answer's author or a moderator promotes an answer.")
    body = f"{answer.body}\n\n*From the question \u201c{question.title}\u201d in {community.name}.*"
    article = article_create(actor=answer.author, title=question.title, body=body, community=community)
    return article


@transaction.atomic
def question_to_ticket(*, actor: User, question: Question):
    """An unanswered question becomes a ticket after a while; the asker follows it."""
    from django.conf import settings

    from tickets import services as tickets

    if actor.pk != question.author_id:
        raise Forbidden("Only the person who asked turns a question into a ticket.")
    if question.accepted_answer_id is not None:
        raise ApplicationError("This question has an accepted answer.")
    if timezone.now() < selectors.ticket_ready_at(question):
        raise ApplicationError(f"Give the community {settings.QUESTION_TO_TICKET_HOURS} hours to answer first.")
    description = f"{question.body}\n\nAsked in {question.community.name}: {question.get_absolute_url()}"
    return tickets.ticket_create(
        actor=actor, kind="request", title=question.title[:200], description=description, impact=3, urgency=3,
        service=question.community.services.filter(active=True).first(),
    )
