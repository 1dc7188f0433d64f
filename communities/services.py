"""Every write to communities: membership, join requests, questions, answers, votes, acceptance."""
from __future__ import annotations

import re
from collections.abc import Iterable

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from feeds.audience import SIGNED_IN, Audience
from feeds import live as feeds_live
from feeds.models import Follow
from feeds.services import NotificationSpec, ObjectRef, activity_publish, audience_restrict, follow_write, mentions_check
from servicedesk import hooks, markdown, ratelimit
from servicedesk.errors import ApplicationError, Forbidden, NotVisible
from servicedesk.text import one_line

from . import live, selectors
from .models import Answer, Community, JoinRequest, Membership, Question, Removal, Vote


def community_audience(community: Community, *, users=()) -> Audience:
    """Open communities are seen by everyone signed in; private ones by their members only.

    In a private community the people named in `users` (an asker, an answer's author, an idea's
    voters) are kept only while they are members: someone removed, or who left, hears nothing
    more of what happens inside."""
    if community.is_private:
        users = list(users)
        if users:
            users = Membership.objects.filter(community=community, user_id__in=users).values_list("user_id", flat=True)
        return Audience.of(users=users, groups=[f"community:{community.slug}"])
    return Audience.of(users=users, groups=[SIGNED_IN])


def community_ref(community: Community) -> ObjectRef:
    return ObjectRef("community", community.slug, community.name)


def _join(community: Community, user: User, role: str) -> Membership:
    """Every way in (creating, an approved request, an accepted invitation) was a moderator's or
    owner's choice, so it ends a standing removal."""
    member, _ = Membership.objects.get_or_create(community=community, user=user, defaults={"role": role})
    Removal.objects.filter(community=community, user=user, lifted_at__isnull=True).update(lifted_at=timezone.now())
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
    if selectors.is_barred(actor, community):
        _check_can_see(actor, community)
        raise Forbidden(selectors.REMOVED_MESSAGE)
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
    # Their open sockets re-check what they subscribe to (the community, its questions).
    feeds_live.recheck_on_commit(user_ids=[actor.pk])


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
    from .models import Article, ArticleRevision

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
    from .models import Article, HelpfulVote

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

    from .models import ArticleReuse

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


# --- mentions ----------------------------------------------------------------------------------


def _publish_mentions(*, actor: User, community: Community, obj: ObjectRef, body: str, url: str) -> None:
    """`@username` in a question or an answer tells that person, if they may read the community."""
    from feeds.fanout import admitted_people
    from feeds.services import MENTION_RE

    names = {m.group(1) for m in MENTION_RE.finditer(body or "")} - {actor.username}
    if not names:
        return
    audience = community_audience(community)
    people = admitted_people(audience, User.objects.filter(username__in=sorted(names), is_active=True))
    if not people:
        return
    activity_publish(
        actor=actor, verb="mentioned", obj=obj, target=community_ref(community),
        audience=Audience.of(users=[actor.pk, *(p.pk for p in people)], groups=audience.groups),
        summary=f"{actor.display_name} mentioned {', '.join(p.display_name for p in people)} in {community.name}",
        notify=people, notification=NotificationSpec(
            kind="community.mentioned", text=f"{actor.display_name} mentioned you in {community.name}: {obj.title}", url=url,
        ),
    )


# --- membership: leaving, invitations, removal ------------------------------------------------


def _check_can_see(actor: User, community: Community) -> None:
    if not selectors.can_read(actor, community):
        raise NotVisible()


def _drop_member(community: Community, user: User) -> None:
    Membership.objects.filter(community=community, user=user).delete()
    Follow.objects.filter(user=user, target_type=Follow.Type.COMMUNITY, target_key=community.slug).delete()
    if community.is_private:
        audience_restrict(stream=f"community:{community.slug}", allowed=community_audience(community))
    feeds_live.recheck_on_commit(user_ids=[user.pk])


@transaction.atomic
def invitation_create(*, actor: User, community: Community, user: User):
    from .models import Invitation

    selectors.require_moderator(actor, community, "Only the community's owners and moderators invite people.")
    if not user.is_active:
        raise ApplicationError("That account is not active.", errors={"username": ["No such person."]})
    if Membership.objects.filter(community=community, user=user).exists():
        raise ApplicationError(f"{user.display_name} is already a member.", errors={"username": ["Already a member."]})
    invitation, created = Invitation.objects.get_or_create(
        community=community, user=user, status=Invitation.Status.PENDING, defaults={"invited_by": actor}
    )
    if created:
        activity_publish(
            actor=actor, verb="invited", obj=community_ref(community), audience=Audience.of(users=[actor.pk, user.pk]),
            summary=f"{actor.display_name} invited {user.display_name} to {community.name}", notify=[user],
            notification=NotificationSpec(kind="community.invitation",
                                          text=f"{actor.display_name} invited you to join {community.name}",
                                          url=community.get_absolute_url()),
            data={"invitation": invitation.pk},
        )
    return invitation


@transaction.atomic
def invitation_decide(*, actor: User, invitation_id: int, accept: bool):
    from .models import Invitation

    invitation = Invitation.objects.select_for_update().select_related("community", "invited_by").filter(
        pk=invitation_id, user=actor).first()
    if invitation is None:
        raise NotVisible()
    if invitation.status != Invitation.Status.PENDING:
        raise ApplicationError("That invitation was already answered.")
    community = invitation.community
    invitation.status = Invitation.Status.ACCEPTED if accept else Invitation.Status.DECLINED
    invitation.decided_at = timezone.now()
    invitation.save(update_fields=["status", "decided_at"])
    if accept:
        _join(community, actor, Membership.Role.MEMBER)
        # A pending request to join is answered by the invitation.
        JoinRequest.objects.filter(community=community, user=actor, status=JoinRequest.Status.PENDING).update(
            status=JoinRequest.Status.APPROVED, decided_by=invitation.invited_by, decided_at=timezone.now())
        activity_publish(
            actor=actor, verb="joined", obj=community_ref(community), audience=community_audience(community, users=[actor.pk]),
            summary=f"{actor.display_name} joined {community.name}",
        )
    return invitation


@transaction.atomic
def member_remove(*, actor: User, community: Community, user: User, reason: str = "") -> None:
    selectors.require_moderator(actor, community, "Only the community's owners and moderators remove members.")
    if "\x00" in (reason or ""):
        raise ApplicationError("The reason contains a character that cannot be stored.",
                               errors={"reason": ["Remove the null character."]})
    member = Membership.objects.select_for_update().filter(community=community, user=user).first()
    if member is None:
        raise NotVisible()
    if user.pk == actor.pk:
        raise ApplicationError("To leave, use Leave.")
    actor_role = Membership.objects.get(community=community, user=actor).role
    if member.role != Membership.Role.MEMBER and actor_role != Membership.Role.OWNER:
        raise Forbidden("Only an owner removes an owner or a moderator.")
    _drop_member(community, user)
    Removal.objects.create(community=community, user=user, removed_by=actor, reason=(reason or "")[:300])
    activity_publish(
        actor=actor, verb="removed_member", obj=community_ref(community), audience=Audience.of(users=[actor.pk, user.pk]),
        summary=f"{user.display_name} was removed from {community.name}",
        notify=[user], notification=NotificationSpec(
            kind="community.removed", text=f"You were removed from {community.name}" + (f": {reason[:200]}" if reason else ""),
            url="/communities/"),
    )


@transaction.atomic
def member_role_set(*, actor: User, community: Community, user: User, role: str) -> Membership:
    if role not in Membership.Role.values:
        raise ApplicationError("Unknown role.", errors={"role": ["Choose owner, moderator or member."]})
    if not Membership.objects.filter(community=community, user=actor, role=Membership.Role.OWNER).exists():
        _check_can_see(actor, community)
        raise Forbidden("Only an owner changes roles.")
    member = Membership.objects.select_for_update().filter(community=community, user=user).first()
    if member is None:
        raise NotVisible()
    if member.role == Membership.Role.OWNER and role != Membership.Role.OWNER and \
            community.memberships.filter(role=Membership.Role.OWNER).count() == 1:
        raise ApplicationError("A community keeps at least one owner.")
    member.role = role
    member.save(update_fields=["role"])
    return member


# --- moderation of posts -----------------------------------------------------------------------


def _community_of(item) -> Community:
    from .models import Answer as AnswerModel

    if isinstance(item, AnswerModel):
        return item.question.community
    return item.community


@transaction.atomic
def content_remove(*, actor: User, item, reason: str):
    """Hide a question, answer, article or idea; the row stays, with who removed it and why."""
    from .models import Article, Idea, Poll

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
    from .models import AnswerComment

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


# --- linked services and bridges --------------------------------------------------------------


@transaction.atomic
def community_services_set(*, actor: User, community: Community, services) -> None:
    selectors.require_moderator(actor, community, "Only the community's owners and moderators link services.")
    community.services.set(services)


@transaction.atomic
def bridge_propose(*, actor: User, source: Community, target: Community):
    """A moderator of `source` proposes a link; a moderator of `target` accepts it."""
    from .models import Bridge

    selectors.require_moderator(actor, source, "Only the community's owners and moderators link communities.")
    if not selectors.can_read(actor, target):
        raise NotVisible()
    if source.pk == target.pk:
        raise ApplicationError("A community cannot be linked to itself.", errors={"target": ["Choose another community."]})
    existing = Bridge.objects.filter(_pair(source, target)).first()
    if existing is not None:
        if existing.status == Bridge.Status.PROPOSED and existing.target_id == source.pk:
            return bridge_accept(actor=actor, bridge=existing)
        return existing
    bridge = Bridge.objects.create(source=source, target=target, proposed_by=actor)
    moderators = [m.user for m in target.memberships.filter(
        role__in=[Membership.Role.OWNER, Membership.Role.MODERATOR]).select_related("user")]
    if selectors.is_moderator(actor, target):
        return bridge_accept(actor=actor, bridge=bridge)
    activity_publish(
        actor=actor, verb="proposed_link", obj=community_ref(target), target=community_ref(source),
        audience=Audience.of(users=[actor.pk, *(m.pk for m in moderators)]),
        summary=f"{actor.display_name} proposed linking {source.name} and {target.name}", notify=moderators,
        notification=NotificationSpec(kind="community.bridge", text=f"{source.name} would like to link with {target.name}",
                                      url=target.get_absolute_url()),
    )
    return bridge


def _pair(a: Community, b: Community):
    from django.db.models import Q

    return Q(source=a, target=b) | Q(source=b, target=a)


@transaction.atomic
def bridge_accept(*, actor: User, bridge):
    from .models import Bridge

    bridge = Bridge.objects.select_for_update().select_related("source", "target").get(pk=bridge.pk)
    selectors.require_moderator(actor, bridge.target, "Only the other community's owners and moderators accept a link.")
    if bridge.status == Bridge.Status.ACTIVE:
        return bridge
    bridge.status, bridge.accepted_by = Bridge.Status.ACTIVE, actor
    bridge.save(update_fields=["status", "accepted_by"])
    for here, there in ((bridge.source, bridge.target), (bridge.target, bridge.source)):
        # Each side's own audience: a private community's name reaches only its members.
        activity_publish(
            actor=actor, verb="linked", obj=community_ref(here), audience=community_audience(here),
            summary=f"{here.name} is now linked with {there.name}" if not there.is_private else f"{here.name} linked a related community",
        )
    return bridge


@transaction.atomic
def bridge_remove(*, actor: User, bridge) -> None:
    if not (selectors.is_moderator(actor, bridge.source) or selectors.is_moderator(actor, bridge.target)):
        _check_can_see(actor, bridge.source)
        raise Forbidden("Only moderators of either community remove a link.")
    bridge.delete()


# --- ideas -------------------------------------------------------------------------------------


@transaction.atomic
def idea_create(*, actor: User, community: Community, title: str, body: str = ""):
    from .models import Idea

    _require_member(actor, community)
    _check_text(title, body)
    idea = Idea.objects.create(community=community, author=actor, title=title.strip(), body=body, body_html=markdown.render(body))
    activity_publish(
        actor=actor, verb="suggested", obj=ObjectRef("idea", str(idea.pk), idea.title), target=community_ref(community),
        audience=community_audience(community, users=[actor.pk]),
        summary=f"{actor.display_name} suggested an idea in {community.name}: {idea.title}",
    )
    hooks.text_written(author=actor, text=idea.title, obj=idea, field="title")
    if body.strip():
        hooks.text_written(author=actor, text=body, obj=idea, field="body")
    return idea


@transaction.atomic
def idea_vote(*, actor: User, idea):
    from .models import Idea, IdeaVote

    _require_member(actor, idea.community)
    if idea.author_id == actor.pk:
        raise ApplicationError("You cannot vote for your own idea.")
    if idea.removed_at is not None:
        raise NotVisible()
    try:
        with transaction.atomic():
            IdeaVote.objects.create(idea=idea, user=actor)
    except IntegrityError:
        raise ApplicationError("You already voted for this idea.") from None
    Idea.objects.filter(pk=idea.pk).update(vote_count=F("vote_count") + 1)
    idea.refresh_from_db(fields=["vote_count"])
    return idea


@transaction.atomic
def idea_status_set(*, actor: User, idea, status: str, note: str = ""):
    from .models import Idea

    community = idea.community
    selectors.require_moderator(actor, community, "Only the community's moderators set an idea's status.")
    if status not in Idea.Status.values:
        raise ApplicationError("Unknown status.", errors={"status": [f"Choose one of {', '.join(Idea.Status.values)}."]})
    note = (note or "").strip()
    if len(note) > 500:
        raise ApplicationError("Keep the note under 500 characters.", errors={"note": ["Too long."]})
    idea = Idea.objects.select_for_update().select_related("community", "author").get(pk=idea.pk)
    if idea.status == status and idea.status_note == note:
        return idea
    idea.status, idea.status_note, idea.status_changed_by = status, note, actor
    idea.save(update_fields=["status", "status_note", "status_changed_by"])
    voters = list(User.objects.filter(pk__in=idea.votes.values("user_id")))
    label = Idea.Status(status).label.lower()
    activity_publish(
        actor=actor, verb="changed_status", obj=ObjectRef("idea", str(idea.pk), idea.title), target=community_ref(community),
        audience=community_audience(community, users=[actor.pk, idea.author_id, *(v.pk for v in voters)]),
        summary=f"\u201c{idea.title}\u201d is now {label}" + (f": {note}" if note else ""),
        notify=[idea.author, *voters], notification=NotificationSpec(
            kind="community.idea_status", text=f"The idea \u201c{idea.title}\u201d is now {label}", url=idea.get_absolute_url()),
        data={"status": status, "note": note},
    )
    return idea


# --- polls -------------------------------------------------------------------------------------


@transaction.atomic
def poll_create(*, actor: User, community: Community, question: str, options: list[str], closes_at):
    from .models import Poll, PollOption

    _require_member(actor, community)
    errors = {}
    question = (question or "").strip()
    labels = [o.strip() for o in options or [] if o and o.strip()]
    if not question or len(question) > 200:
        errors["question"] = ["Ask something, in up to 200 characters."]
    if not 2 <= len(labels) <= 10 or any(len(o) > 120 for o in labels):
        errors["options"] = ["Give 2 to 10 options of up to 120 characters."]
    elif len(set(labels)) != len(labels):
        errors["options"] = ["Each option once."]
    if closes_at is None or closes_at <= timezone.now():
        errors["closes_at"] = ["Choose a closing time in the future."]
    if errors:
        raise ApplicationError("The poll could not be created.", errors=errors)
    poll = Poll.objects.create(community=community, author=actor, question=question, closes_at=closes_at)
    PollOption.objects.bulk_create([PollOption(poll=poll, label=label, position=i) for i, label in enumerate(labels)])
    activity_publish(
        actor=actor, verb="polled", obj=ObjectRef("poll", str(poll.pk), question), target=community_ref(community),
        audience=community_audience(community, users=[actor.pk]),
        summary=f"{actor.display_name} asked {community.name}: {question}",
    )
    hooks.text_written(author=actor, text=question, obj=poll, field="question")
    hooks.text_written(author=actor, text="\n".join(labels), obj=poll, field="options")
    return poll


@transaction.atomic
def poll_vote(*, actor: User, poll, option_id: int):
    from .models import Poll, PollOption, PollVote

    _require_member(actor, poll.community)
    poll = Poll.objects.select_for_update().get(pk=poll.pk)
    if poll.removed_at is not None:
        raise NotVisible()
    if poll.closes_at <= timezone.now():
        raise ApplicationError("This poll is closed.")
    option = PollOption.objects.filter(poll=poll, pk=option_id).first()
    if option is None:
        raise ApplicationError("Choose one of the poll's options.", errors={"option": ["Not an option of this poll."]})
    try:
        with transaction.atomic():
            PollVote.objects.create(poll=poll, option=option, user=actor)
    except IntegrityError:
        raise ApplicationError("You already voted in this poll.") from None
    PollOption.objects.filter(pk=option.pk).update(vote_count=F("vote_count") + 1)
    return poll
