"""Reads of communities. A private community's content exists only for its members."""
from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Exists, F, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from servicedesk import similarity
from servicedesk.errors import Forbidden, NotVisible
from servicedesk.prepared import prepared

from .models import Answer, Community, JoinRequest, Membership, Question, Removal


def membership(user: User, community: Community) -> Membership | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Membership.objects.filter(community=community, user=user).first()


def can_read(user: User, community: Community) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return not community.is_private or Membership.objects.filter(community=community, user=user).exists()


REMOVED_MESSAGE = "A moderator removed you from this community; they can invite you back."


def is_barred(user: User, community: Community | int) -> bool:
    """Removed by a moderator and not invited back since."""
    if not getattr(user, "is_authenticated", False):
        return False
    community_id = community if isinstance(community, int) else community.pk
    return Removal.objects.filter(community_id=community_id, user=user, lifted_at__isnull=True).exists()


def removals_of(*, user: User, community: Community):
    """Everyone ever removed from the community, newest first, lifted ones too: for its moderators."""
    require_moderator(user, community, "Only the community's owners and moderators see who was removed.")
    return Removal.objects.filter(community=community).select_related("user", "removed_by").order_by("-id")


def is_moderator(user: User, community: Community) -> bool:
    return Membership.objects.filter(
        community=community, user=user, role__in=[Membership.Role.OWNER, Membership.Role.MODERATOR]
    ).exists()


def require_moderator(user: User, community: Community, message: str) -> None:
    """Outsiders of a private community learn nothing (404); members who may not act get 403."""
    if is_moderator(user, community):
        return
    if not can_read(user, community):
        raise NotVisible()
    raise Forbidden(message)


def community_get(*, user: User, slug: str) -> Community:
    """The community itself (name, description) is listed for everyone signed in, so people can ask
    to join a private one; what is inside is checked with `community_readable`."""
    community = Community.objects.filter(slug=slug).first()
    if community is None or not getattr(user, "is_authenticated", False):
        raise NotVisible()
    return community


def community_readable(*, user: User, slug: str) -> Community:
    community = community_get(user=user, slug=slug)
    if not can_read(user, community):
        raise NotVisible()
    return community


def communities_for(user: User) -> QuerySet[Community]:
    return Community.objects.order_by("name")


@prepared(args=("user_id",))
def _member_slugs(*, user_id):
    return Membership.objects.filter(user_id=user_id).values_list("community__slug")


def member_groups(user: User) -> set[str]:
    # Read on every live account check and audience decision: compiled once.
    return {f"community:{slug}" for (slug,) in _member_slugs.run(user_id=user.pk)}


def member_groups_many(users: list[User]) -> dict[int, set[str]]:
    """`member_groups` of several people in one query."""
    groups: dict[int, set[str]] = {user.pk: set() for user in users}
    rows = Membership.objects.filter(user_id__in=list(groups)).values_list("user_id", "community__slug") if groups else []
    for user_id, slug in rows:
        groups[user_id].add(f"community:{slug}")
    return groups


QUESTION_SORTS = {"latest": "Latest activity", "top": "Top", "unanswered": "Unanswered", "new": "Newest"}


def questions_of(community: Community, *, unanswered: bool = False, asked_by: User | None = None,
                 sort: str = "new", tag: str = "") -> QuerySet[Question]:
    """A community's questions with `votes` (the net score of their answers), sorted as asked:
    "latest" by last activity, "top" by votes then answers, "unanswered" (no answer yet, newest
    first), "new" by when they were asked."""
    qs = Question.objects.filter(community=community, removed_at__isnull=True).select_related("author", "community")
    if unanswered or sort == "unanswered":
        qs = qs.filter(accepted_answer__isnull=True, answer_count=0)
    if asked_by is not None:
        qs = qs.filter(author=asked_by)
    if tag:
        qs = qs.filter(tags__contains=[tag]) if connection.vendor == "postgresql" else qs.filter(tags__icontains=f'"{tag}"')
    votes = (
        Answer.objects.filter(question=OuterRef("pk"), removed_at__isnull=True).order_by()
        .values("question").annotate(total=Sum("score")).values("total")
    )
    qs = qs.annotate(votes=Coalesce(Subquery(votes, output_field=IntegerField()), 0))
    if sort == "latest":
        return qs.order_by(F("last_activity_at").desc(nulls_last=True), "-id")
    if sort == "top":
        return qs.order_by("-votes", "-answer_count", "-id")
    return qs.order_by("-id")


def question_get(*, user: User, question_id) -> Question:
    question = Question.objects.select_related("community", "author").filter(pk=question_id, removed_at__isnull=True).first()
    if question is None or not can_read(user, question.community):
        raise NotVisible()
    return question


def answer_get(*, user: User, answer_id) -> Answer:
    answer = Answer.objects.select_related("question__community", "question__author", "author").filter(
        pk=answer_id, removed_at__isnull=True, question__removed_at__isnull=True).first()
    if answer is None or not can_read(user, answer.question.community):
        raise NotVisible()
    return answer


def article_visible(user: User, article) -> bool:
    return article.community is None or can_read(user, article.community)


def articles_for(user: User):
    from .models import Article

    readable = Q(community__isnull=True) | Q(community__visibility=Community.Visibility.OPEN)
    member_of = Membership.objects.filter(user=user).values("community_id")
    return (
        Article.objects.filter(readable | Q(community_id__in=member_of), removed_at__isnull=True)
        .select_related("author", "community", "service")
        .order_by("-id")
    )


ARTICLE_EDIT_REFUSED = "Only members of the community edit its articles."


def can_edit_article(user: User, article) -> bool:
    """Anyone who may read a desk-wide article edits it; a community's articles, its members."""
    return article.community_id is None or Membership.objects.filter(community_id=article.community_id, user=user).exists()


def article_get(*, user: User, article_id):
    from .models import Article

    article = Article.objects.select_related("author", "community", "service").filter(
        pk=article_id, removed_at__isnull=True).first()
    if article is None or not getattr(user, "is_authenticated", False) or not article_visible(user, article):
        raise NotVisible()
    return article


def revision_diff(article, a: int, b: int) -> str:
    """A unified diff of two revisions' text, title first."""
    import difflib

    revisions = {r.number: r for r in article.revisions.filter(number__in=[a, b])}
    if a not in revisions or b not in revisions:
        raise NotVisible()
    old, new = revisions[a], revisions[b]
    return "".join(
        difflib.unified_diff(
            [f"# {old.title}\n", *old.body.splitlines(keepends=True)],
            [f"# {new.title}\n", *new.body.splitlines(keepends=True)],
            fromfile=f"revision {a}", tofile=f"revision {b}",
        )
    )


# --- pages -------------------------------------------------------------------------------------

MEMBERS_SHOWN = 24
QUESTIONS_SHOWN = 20
ARTICLES_SHOWN = 10
IDEAS_SHOWN = 10
POLLS_SHOWN = 5


def readable_community_ids(user: User):
    """A subquery of the communities whose content `user` may read."""
    member_of = Membership.objects.filter(user=user).values("community_id")
    return Community.objects.filter(Q(visibility=Community.Visibility.OPEN) | Q(pk__in=member_of)).values("pk")


def bridges_of(user: User, community: Community) -> list[Community]:
    """Linked communities, without ever naming a private one to someone outside it."""
    from .models import Bridge

    rows = Bridge.objects.filter(Q(source=community) | Q(target=community), status=Bridge.Status.ACTIVE).select_related(
        "source", "target")
    others = [b.target if b.source_id == community.pk else b.source for b in rows]
    readable = set(readable_community_ids(user).filter(pk__in=[c.pk for c in others]).values_list("pk", flat=True))
    return sorted((c for c in others if c.pk in readable), key=lambda c: c.name)


def polls_of(user: User, community: Community, *, limit: int | None = POLLS_SHOWN, only: int | None = None):
    from .models import Poll, PollOption, PollVote

    qs = (
        Poll.objects.filter(community=community, removed_at__isnull=True)
        .select_related("author", "community")
        .annotate(my_option=PollVote.objects.filter(poll=OuterRef("pk"), user=user).values("option_id")[:1])
        .prefetch_related(Prefetch("options", queryset=PollOption.objects.order_by("position")))
        .order_by("-id")
    )
    if only is not None:
        qs = qs.filter(pk=only)
    polls = list(qs[:limit] if limit else qs)
    now = timezone.now()
    for poll in polls:
        poll.is_open = poll.closes_at > now
        poll.total = sum(o.vote_count for o in poll.options.all())
        for option in poll.options.all():
            option.percent = round(100 * option.vote_count / poll.total) if poll.total else 0
    return polls


def ideas_of(user: User, community: Community, *, status: str = "", limit: int | None = IDEAS_SHOWN):
    from .models import Idea, IdeaVote

    qs = (
        Idea.objects.filter(community=community, removed_at__isnull=True)
        .select_related("author", "community")
        .annotate(voted=Exists(IdeaVote.objects.filter(idea=OuterRef("pk"), user=user)))
        .order_by("-vote_count", "-id")
    )
    if status:
        qs = qs.filter(status=status)
    return qs[:limit] if limit else qs


def idea_get(*, user: User, community: Community, idea_id):
    from .models import Idea

    if not can_read(user, community):
        raise NotVisible()
    idea = Idea.objects.select_related("community", "author", "status_changed_by").filter(
        pk=idea_id, community=community, removed_at__isnull=True).first()
    if idea is None:
        raise NotVisible()
    return idea


def poll_get(*, user: User, community: Community, poll_id):
    from .models import Poll

    if not can_read(user, community):
        raise NotVisible()
    poll = Poll.objects.select_related("community").filter(pk=poll_id, community=community, removed_at__isnull=True).first()
    if poll is None:
        raise NotVisible()
    return poll


@dataclass
class CommunityPage:
    community: Community
    membership: Membership | None
    can_read: bool
    is_moderator: bool
    member_count: int = 0
    members: list = field(default_factory=list)
    services: list = field(default_factory=list)
    questions: list = field(default_factory=list)
    articles: list = field(default_factory=list)
    ideas: list = field(default_factory=list)
    polls: list = field(default_factory=list)
    bridges: list = field(default_factory=list)
    requests: list = field(default_factory=list)
    invitation: object = None
    pending_request: bool = False
    removed: bool = False
    removals: list = field(default_factory=list)
    proposed_bridges: list = field(default_factory=list)


def community_page(*, user: User, community: Community, show: str = "all", sort: str = "latest",
                   tag: str = "") -> CommunityPage:
    """Everything the community page shows, in a fixed number of queries whatever its size."""
    from .models import Article, Bridge, Invitation

    member = membership(user, community)
    readable = not community.is_private or member is not None
    moderator = member is not None and member.role in (Membership.Role.OWNER, Membership.Role.MODERATOR)
    page = CommunityPage(community=community, membership=member, can_read=readable, is_moderator=moderator)
    page.invitation = Invitation.objects.filter(community=community, user=user, status=Invitation.Status.PENDING).first()
    if member is None:
        page.pending_request = JoinRequest.objects.filter(community=community, user=user, status=JoinRequest.Status.PENDING).exists()
        page.removed = is_barred(user, community)
    if not readable:
        return page
    members = Membership.objects.filter(community=community).select_related("user").order_by("role", "user__username")
    page.member_count = members.count()
    page.members = list(members[:MEMBERS_SHOWN])
    page.services = list(community.services.filter(active=True).order_by("name"))
    page.questions = list(questions_of(community, unanswered=show == "unanswered",
                                       asked_by=user if show == "mine" else None, sort=sort, tag=tag)[:QUESTIONS_SHOWN])
    page.articles = list(Article.objects.filter(community=community, removed_at__isnull=True).select_related("author")
                         .order_by("-helpful_count", "-id")[:ARTICLES_SHOWN])
    page.ideas = list(ideas_of(user, community))
    page.polls = polls_of(user, community)
    page.bridges = bridges_of(user, community)
    if moderator:
        page.requests = list(JoinRequest.objects.filter(community=community, status=JoinRequest.Status.PENDING)
                             .select_related("user").order_by("id"))
        page.proposed_bridges = list(Bridge.objects.filter(target=community, status=Bridge.Status.PROPOSED)
                                     .select_related("source"))
        page.removals = list(Removal.objects.filter(community=community, lifted_at__isnull=True)
                             .select_related("user", "removed_by").order_by("-id")[:MEMBERS_SHOWN])
    return page


@dataclass
class QuestionPage:
    question: Question
    answers: list
    is_moderator: bool
    is_member: bool
    removed: bool = False
    # The asker of an unanswered question may turn it into a ticket from this moment on.
    ticket_from: object = None

    @property
    def ticket_ready(self) -> bool:
        return self.ticket_from is not None and timezone.now() >= self.ticket_from


def ticket_ready_at(question: Question):
    """When the community has had its time to answer (QUESTION_TO_TICKET_HOURS after asking)."""
    from datetime import timedelta

    from django.conf import settings

    return question.created_at + timedelta(hours=settings.QUESTION_TO_TICKET_HOURS)


def question_page(*, user: User, question: Question) -> QuestionPage:
    """The question with its answers, their comments and the reader's own votes: fixed queries."""
    from .models import AnswerComment, Vote

    member = membership(user, question.community)
    answers = list(
        Answer.objects.filter(question=question, removed_at__isnull=True)
        .select_related("author")
        .annotate(my_vote=Vote.objects.filter(answer=OuterRef("pk"), user=user).values("value")[:1])
        .prefetch_related(Prefetch("comments", queryset=AnswerComment.objects.select_related("author").order_by("id")))
        .order_by("-score", "id")
    )
    # The accepted answer comes first, whatever its score.
    answers.sort(key=lambda a: a.pk != question.accepted_answer_id)
    return QuestionPage(
        question=question, answers=answers,
        is_moderator=member is not None and member.role in (Membership.Role.OWNER, Membership.Role.MODERATOR),
        is_member=member is not None,
        removed=member is None and is_barred(user, question.community),
        ticket_from=ticket_ready_at(question) if user.pk == question.author_id and not question.accepted_answer_id else None,
    )


def article_deflections(article) -> int:
    """People who opened this article from the portal's suggestions and did not log a ticket
    within the next hour: tickets the article saved."""
    from datetime import timedelta

    from tickets.models import Deflection

    opened = Deflection.objects.filter(outcome=Deflection.Outcome.OPENED, suggestion_type="article",
                                       suggestion_key=str(article.pk))
    logged_after = Deflection.objects.filter(
        user_id=OuterRef("user_id"), outcome=Deflection.Outcome.LOGGED, created_at__gte=OuterRef("created_at"),
        created_at__lte=OuterRef("created_at") + timedelta(hours=1),
    )
    return opened.annotate(logged=Exists(logged_after)).filter(logged=False).values("user_id").distinct().count()


# --- search ------------------------------------------------------------------------------------


@dataclass
class Hit:
    kind: str
    title: str
    url: str
    snippet: str
    community: str
    rank: float = 0.0
    id: int = 0


def text_search(qs, text: str, fields: tuple[str, ...]):
    """Ranked full-text matches on PostgreSQL; a substring match elsewhere, so `make run` on SQLite works."""
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

        vector = SearchVector(*fields, config="english")
        query = SearchQuery(text, search_type="websearch", config="english")
        return qs.annotate(search=vector).filter(search=query).annotate(rank=SearchRank(vector, query)).order_by("-rank", "-id")
    condition = Q()
    for name in fields:
        condition |= Q(**{f"{name}__icontains": text})
    return qs.filter(condition).order_by("-id")


def article_suggestions(*, user: User, text: str, limit: int = 3):
    """Knowledge the caller may read that matches what they are about to log, ranked like duplicate
    tickets (servicedesk.similarity) on PostgreSQL and on SQLite alike."""
    text = text.strip()[:200]
    if len(text) < 3:
        return []
    vector = None
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchVector

        vector = SearchVector("title", weight="A", config="english") + SearchVector("body", weight="B", config="english")
    return similarity.ranked(articles_for(user), text, limit=limit, vector=vector, fts_table="communities_article_fts")


def community_search(*, user: User, text: str, limit: int = 20) -> list[Hit]:
    """Questions, answers, articles and ideas the caller may read, best matches first."""
    from django.utils.html import strip_tags
    from django.utils.text import Truncator

    from .models import Idea

    text = text.strip()[:200]
    if not text:
        return []
    readable = readable_community_ids(user)
    hits: list[Hit] = []

    def snippet(body: str) -> str:
        return Truncator(strip_tags(body or "")).chars(180)

    questions = text_search(Question.objects.filter(community_id__in=readable, removed_at__isnull=True), text, ("title", "body"))
    for q in questions.select_related("community")[:limit]:
        hits.append(Hit("question", q.title, q.get_absolute_url(), snippet(q.body), q.community.name, getattr(q, "rank", 0), q.pk))
    answers = text_search(
        Answer.objects.filter(question__community_id__in=readable, removed_at__isnull=True, question__removed_at__isnull=True),
        text, ("body",))
    for a in answers.select_related("question__community")[:limit]:
        hits.append(Hit("answer", a.question.title, f"{a.question.get_absolute_url()}#answer-{a.pk}", snippet(a.body),
                        a.question.community.name, getattr(a, "rank", 0), a.pk))
    for article in text_search(articles_for(user), text, ("title", "body"))[:limit]:
        hits.append(Hit("article", article.title, article.get_absolute_url(), snippet(article.body),
                        article.community.name if article.community_id else "", getattr(article, "rank", 0), article.pk))
    ideas = text_search(Idea.objects.filter(community_id__in=readable, removed_at__isnull=True), text, ("title", "body"))
    for idea in ideas.select_related("community")[:limit]:
        hits.append(Hit("idea", idea.title, idea.get_absolute_url(), snippet(idea.body), idea.community.name,
                        getattr(idea, "rank", 0), idea.pk))
    hits.sort(key=lambda h: (-h.rank, h.kind, -h.id))
    return hits[:limit]


def poll_detail(*, user: User, poll):
    from .models import Poll

    return polls_of(user, poll.community, limit=None, only=poll.pk)[0] if isinstance(poll, Poll) else poll


def invitations_for(user: User):
    from .models import Invitation

    return list(Invitation.objects.filter(user=user, status=Invitation.Status.PENDING)
                .select_related("community", "invited_by", "user").order_by("-id"))


# --- for "About the requester" on a ticket (registered with tickets.selectors.social_provider) ---


def social_communities(viewer: User, person: User) -> list[Community]:
    """The communities `person` belongs to that `viewer` may see (a private one only if the viewer
    is a member too)."""
    return _communities_of.run(person_id=person.pk, viewer_id=viewer.pk)


@prepared(args=("person_id", "viewer_id"))
def _communities_of(*, person_id, viewer_id):
    """Read beside every ticket an agent opens: a fixed query, compiled once. The viewer is a bare
    id here: `readable_community_ids` must keep deciding from memberships alone (a rule that read
    the viewer's role would be frozen at the stand-in's)."""
    return (
        Community.objects.filter(memberships__user_id=person_id, pk__in=readable_community_ids(User(pk=viewer_id)))
        .only("id", "name", "slug", "visibility").order_by("name")[:8]
    )


@dataclass
class KnowledgeUse:
    article_id: int
    title: str
    how: str  # "helpful" or "opened"
    at: object


def social_knowledge(viewer: User, person: User, limit: int = 5) -> list[KnowledgeUse]:
    """Articles `person` marked helpful or opened from the portal, newest first, among those the
    viewer may read. One query."""
    from django.db.models import CharField, F, IntegerField, Value
    from django.db.models.functions import Cast

    from tickets.models import Deflection

    from .models import Article, HelpfulVote

    readable = Article.objects.filter(removed_at__isnull=True).filter(
        Q(community__isnull=True) | Q(community_id__in=readable_community_ids(viewer))).values("pk")
    helpful = HelpfulVote.objects.filter(user=person, article_id__in=readable).annotate(
        aid=F("article_id"), how=Value("helpful", output_field=CharField()), at=F("created_at")).values("aid", "how", "at")
    opened = Deflection.objects.filter(
        user=person, outcome=Deflection.Outcome.OPENED, suggestion_type="article", suggestion_key__regex=r"^[0-9]+$",
    ).annotate(aid=Cast("suggestion_key", IntegerField()), how=Value("opened", output_field=CharField()), at=F("created_at"))
    opened = opened.filter(aid__in=readable).values("aid", "how", "at")
    rows = list(helpful.union(opened, all=True).order_by("-at")[: limit * 2])
    titles = dict(Article.objects.filter(pk__in={r["aid"] for r in rows}).values_list("pk", "title")) if rows else {}
    seen, out = set(), []
    for row in rows:
        if row["aid"] in seen or row["aid"] not in titles:
            continue
        seen.add(row["aid"])
        out.append(KnowledgeUse(article_id=row["aid"], title=titles[row["aid"]], how=row["how"], at=row["at"]))
    return out[:limit]


@dataclass
class ReplyKnowledge:
    kind: str  # "article" or "answer"
    id: int
    title: str
    url: str
    summary: str
    reused: int = 0


def _summary(text: str, limit: int = 200) -> str:
    import re

    plain = re.sub(r"[#*_`>\[\]]+", "", text or "")
    plain = " ".join(plain.split())
    return plain if len(plain) <= limit else plain[: limit - 1].rsplit(" ", 1)[0] + "\u2026"


def reply_knowledge(*, user: User, ticket, limit: int = 4) -> list[ReplyKnowledge]:
    """Articles and accepted answers the agent may read that match the ticket (full text over its
    title and the start of its description), best first, with how often each article was reused."""
    from django.db.models import Count

    from .models import Article

    text = f"{ticket.title} {(ticket.description or '')[:300]}"
    articles = article_suggestions(user=user, text=text, limit=limit)
    reused = dict(
        Article.objects.filter(pk__in=[a.pk for a in articles]).annotate(n=Count("reuses")).values_list("pk", "n")
    ) if articles else {}
    found = [
        ReplyKnowledge(kind="article", id=a.pk, title=a.title, url=a.get_absolute_url(), summary=_summary(a.body),
                       reused=reused.get(a.pk, 0))
        for a in articles
    ]
    words = [w for w in ticket.title.replace("'", " ").split() if len(w) > 3][:8]
    if words:
        condition = Q()
        for word in words:
            condition |= Q(title__icontains=word)
        questions = (
            Question.objects.filter(condition, accepted_answer__isnull=False, removed_at__isnull=True,
                                    community_id__in=readable_community_ids(user))
            .select_related("accepted_answer").order_by("-id")[: max(1, limit - len(found))]
        )
        for question in questions:
            found.append(ReplyKnowledge(
                kind="answer", id=question.pk, title=question.title, url=question.get_absolute_url(),
                summary=_summary(question.accepted_answer.body),
            ))
    return found


def _my_service_ids(user: User):
    """The services a person has reported tickets about or follows (a subquery, no read)."""
    from feeds.models import Follow
    from tickets.models import Service

    reported = Q(tickets__requester=user)
    followed = Q(pk__in=Follow.objects.filter(user=user, target_type=Follow.Type.SERVICE).values("target_id"))
    return Service.objects.filter(reported | followed, active=True).values("pk")


def home_suggested_communities(*, user: User, limit: int = 4) -> list[Community]:
    """Communities about the person's services that they may read and have not joined yet."""
    joined = Membership.objects.filter(user=user).values("community_id")
    return list(
        Community.objects.filter(services__in=_my_service_ids(user), visibility=Community.Visibility.OPEN)
        .exclude(pk__in=joined).distinct().order_by("name")[:limit]
    )


def home_suggested_articles(*, user: User, limit: int = 4):
    """The newest knowledge articles about the person's services that they may read."""
    return list(articles_for(user).filter(service__in=_my_service_ids(user)).defer("body", "body_html")[:limit])
