"""Every write to communities: membership, join requests, questions, answers, votes, acceptance."""
from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from feeds.audience import SIGNED_IN, Audience
from feeds.models import Follow
from feeds.services import NotificationSpec, ObjectRef, activity_publish, audience_restrict, follow_write
from policies import services as policies
from servicedesk import markdown
from servicedesk.errors import ApplicationError, Forbidden, NotVisible

from . import selectors
from .models import Answer, Community, JoinRequest, Membership, Question, Vote


def community_audience(community: Community, *, users=()) -> Audience:
    """Open communities are seen by everyone signed in; private ones by their members only."""
    group = f"community:{community.slug}" if community.is_private else SIGNED_IN
    return Audience.of(users=users, groups=[group])


def community_ref(community: Community) -> ObjectRef:
    return ObjectRef("community", community.slug, community.name)


def _join(community: Community, user: User, role: str) -> Membership:
    member, _ = Membership.objects.get_or_create(community=community, user=user, defaults={"role": role})
    follow_write(user=user, target_type=Follow.Type.COMMUNITY, target_key=community.slug, target_id=community.pk,
                 reason=Follow.Reason.MEMBER)
    return member


@transaction.atomic
def community_create(*, actor: User, name: str, slug: str = "", description: str = "", visibility: str = "open") -> Community:
    errors = {}
    name = (name or "").strip()
    slug = slugify(slug or name)[:60]
    if not name or len(name) > 120:
        errors["name"] = ["Give a name of up to 120 characters."]
    if not slug:
        errors["slug"] = ["Give a short name for the address (letters, digits, hyphens)."]
    if visibility not in Community.Visibility.values:
        errors["visibility"] = ["Choose open or private."]
    if slug and Community.objects.filter(slug=slug).exists():
        errors["slug"] = ["That address is taken."]
    if name and Community.objects.filter(name__iexact=name).exists():
        errors["name"] = ["A community with that name exists."]
    if errors:
        raise ApplicationError("The community could not be created.", errors=errors)
    community = Community.objects.create(
        name=name, slug=slug, description=description, visibility=visibility, created_by=actor
    )
    _join(community, actor, Membership.Role.OWNER)
    activity_publish(
        actor=actor, verb="created", obj=community_ref(community), audience=community_audience(community, users=[actor.pk]),
        summary=f"{actor.display_name} started the community {community.name}",
    )
    return community


@transaction.atomic
def community_join(*, actor: User, community: Community) -> str:
    """Join an open community, or ask to join a private one. Returns "member" or "pending"."""
    if Membership.objects.filter(community=community, user=actor).exists():
        return "member"
    if not community.is_private:
        _join(community, actor, Membership.Role.MEMBER)
        activity_publish(
            actor=actor, verb="joined", obj=community_ref(community), audience=community_audience(community, users=[actor.pk]),
            summary=f"{actor.display_name} joined {community.name}",
        )
        return "member"
    request, created = JoinRequest.objects.get_or_create(community=community, user=actor, status=JoinRequest.Status.PENDING)
    if created:
        moderators = [m.user for m in community.memberships.filter(
            role__in=[Membership.Role.OWNER, Membership.Role.MODERATOR]).select_related("user")]
        activity_publish(
            actor=actor, verb="asked_to_join", obj=community_ref(community),
            audience=Audience.of(users=[actor.pk, *(m.pk for m in moderators)]),
            summary=f"{actor.display_name} asked to join {community.name}", notify=moderators,
            notification=NotificationSpec(kind="community.join_request",
                                          text=f"{actor.display_name} asked to join {community.name}",
                                          url=community.get_absolute_url()),
        )
    return "pending"


@transaction.atomic
def join_request_decide(*, actor: User, community: Community, request_id: int, approve: bool) -> JoinRequest:
    if not selectors.is_moderator(actor, community):
        if selectors.can_read(actor, community):
            raise Forbidden("Only the community's owners and moderators decide who joins.")
        raise NotVisible()
    request = JoinRequest.objects.select_for_update().select_related("user").filter(
        pk=request_id, community=community).first()
    if request is None:
        raise NotVisible()
    if request.status != JoinRequest.Status.PENDING:
        raise ApplicationError("That request was already decided.")
    request.status = JoinRequest.Status.APPROVED if approve else JoinRequest.Status.REJECTED
    request.decided_by, request.decided_at = actor, timezone.now()
    request.save(update_fields=["status", "decided_by", "decided_at"])
    if approve:
        _join(community, request.user, Membership.Role.MEMBER)
    activity_publish(
        actor=actor, verb="approved_join" if approve else "declined_join", obj=community_ref(community),
        audience=Audience.of(users=[request.user_id, actor.pk]),
        summary=f"{request.user.display_name} {'joined' if approve else 'was not admitted to'} {community.name}",
        notify=[request.user],
        notification=NotificationSpec(
            kind="community.join_decided",
            text=f"Your request to join {community.name} was {'approved' if approve else 'declined'}",
            url=community.get_absolute_url(),
        ),
    )
    return request


@transaction.atomic
def community_leave(*, actor: User, community: Community) -> None:
    member = Membership.objects.filter(community=community, user=actor).first()
    if member is None:
        return
    if member.role == Membership.Role.OWNER and community.memberships.filter(role=Membership.Role.OWNER).count() == 1:
        raise ApplicationError("You are the only owner: make someone else an owner first.")
    member.delete()
    Follow.objects.filter(user=actor, target_type=Follow.Type.COMMUNITY, target_key=community.slug).delete()
    if community.is_private:
        audience_restrict(stream=f"community:{community.slug}", allowed=community_audience(community))


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
    if not selectors.can_read(actor, community):
        raise NotVisible()
    if not Membership.objects.filter(community=community, user=actor).exists() and community.is_private:
        raise NotVisible()


@transaction.atomic
def question_ask(*, actor: User, community: Community, title: str, body: str = "") -> Question:
    _require_member(actor, community)
    _check_text(title, body)
    question = Question.objects.create(
        community=community, author=actor, title=title.strip(), body=body, body_html=markdown.render(body)
    )
    activity_publish(
        actor=actor, verb="asked", obj=ObjectRef("question", str(question.pk), question.title),
        target=community_ref(community), audience=community_audience(community, users=[actor.pk]),
        summary=f"{actor.display_name} asked in {community.name}: {question.title}",
    )
    return question


@transaction.atomic
def answer_post(*, actor: User, question: Question, body: str) -> Answer:
    community = question.community
    _require_member(actor, community)
    _check_text(None, body)
    answer = Answer.objects.create(question=question, author=actor, body=body, body_html=markdown.render(body))
    Question.objects.filter(pk=question.pk).update(answer_count=F("answer_count") + 1)
    asker = [question.author] if question.author_id != actor.pk else []
    activity_publish(
        actor=actor, verb="answered", obj=ObjectRef("question", str(question.pk), question.title),
        target=community_ref(community), audience=community_audience(community, users=[actor.pk, question.author_id]),
        summary=f"{actor.display_name} answered: {question.title}", notify=asker,
        notification=NotificationSpec(kind="community.answer", text=f"{actor.display_name} answered your question: {question.title}",
                                      url=f"{question.get_absolute_url()}#answer-{answer.pk}"),
        data={"answer": answer.pk},
    )
    policies.dlp_scan(author=actor, kind="communities.answer", object_id=answer.pk, text=body,
                      url=f"{question.get_absolute_url()}#answer-{answer.pk}")
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
            Vote.objects.create(answer=answer, user=actor, value=value)
    except IntegrityError:
        raise ApplicationError("You already voted on this answer.") from None
    Answer.objects.filter(pk=answer.pk).update(score=F("score") + value)
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
    if question.accepted_answer_id == answer.pk:
        return question
    question.accepted_answer = answer
    question.save(update_fields=["accepted_answer"])
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


# --- knowledge articles ------------------------------------------------------------------------


def _article_audience(article):
    if article.community is not None:
        return community_audience(article.community, users=[article.author_id])
    return Audience.of(users=[article.author_id], groups=[SIGNED_IN])


@transaction.atomic
def article_create(*, actor: User, title: str, body: str, community: Community | None = None, service=None):
    from .models import Article, ArticleRevision

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
        title=title.strip(), body=body, body_html=markdown.render(body), author=actor, community=community, service=service
    )
    ArticleRevision.objects.create(article=article, number=1, title=article.title, body=body, editor=actor, note="First version")
    activity_publish(
        actor=actor, verb="published", obj=ObjectRef("article", str(article.pk), article.title),
        target=community_ref(community) if community else None, audience=_article_audience(article),
        summary=f"{actor.display_name} published \u201c{article.title}\u201d",
    )
    policies.dlp_scan(author=actor, kind="communities.article", object_id=article.pk, text=f"{article.title}\n{body}",
                      url=f"/api/v1/articles/{article.pk}/")
    return article


@transaction.atomic
def article_edit(*, actor: User, article, title: str | None = None, body: str | None = None, note: str = ""):
    """Every edit is a new revision; the previous text stays in the history."""
    from .models import Article, ArticleRevision

    article = Article.objects.select_for_update(of=("self",)).select_related("community").get(pk=article.pk)
    if not selectors.article_visible(actor, article):
        raise NotVisible()
    if article.community is not None and not Membership.objects.filter(community=article.community, user=actor).exists():
        raise Forbidden("Only members of the community edit its articles.")
    title = article.title if title is None else title.strip()
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
    policies.dlp_scan(author=actor, kind="communities.article", object_id=article.pk, text=f"{title}\n{body}",
                      url=f"/api/v1/articles/{article.pk}/")
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
    from .models import Article, HelpfulVote

    if not selectors.article_visible(actor, article):
        raise NotVisible()
    if article.author_id == actor.pk:
        raise ApplicationError("You cannot mark your own article helpful.")
    try:
        with transaction.atomic():
            HelpfulVote.objects.create(article=article, user=actor)
    except IntegrityError:
        raise ApplicationError("You already marked this article helpful.") from None
    Article.objects.filter(pk=article.pk).update(helpful_count=F("helpful_count") + 1)
    article.refresh_from_db(fields=["helpful_count"])
    return article.helpful_count


@transaction.atomic
def answer_promote(*, actor: User, answer: Answer):
    """Turn an accepted answer into a knowledge article in one step, credited to its author."""
    question = answer.question
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
    from datetime import timedelta

    from django.conf import settings

    from tickets import services as tickets

    if actor.pk != question.author_id:
        raise Forbidden("Only the person who asked turns a question into a ticket.")
    if question.accepted_answer_id is not None:
        raise ApplicationError("This question has an accepted answer.")
    wait = timedelta(hours=settings.QUESTION_TO_TICKET_HOURS)
    if timezone.now() - question.created_at < wait:
        raise ApplicationError(f"Give the community {settings.QUESTION_TO_TICKET_HOURS} hours to answer first.")
    description = f"{question.body}\n\nAsked in {question.community.name}: {question.get_absolute_url()}"
    return tickets.ticket_create(
        actor=actor, kind="request", title=question.title[:200], description=description, impact=3, urgency=3,
        service=question.community.services.filter(active=True).first(),
    )
