"""Reads of communities. A private community's content exists only for its members."""
from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User
from servicedesk.errors import NotVisible

from .models import Answer, Community, Membership, Question


def membership(user: User, community: Community) -> Membership | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Membership.objects.filter(community=community, user=user).first()


def can_read(user: User, community: Community) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return not community.is_private or Membership.objects.filter(community=community, user=user).exists()


def is_moderator(user: User, community: Community) -> bool:
    return Membership.objects.filter(
        community=community, user=user, role__in=[Membership.Role.OWNER, Membership.Role.MODERATOR]
    ).exists()


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


def member_groups(user: User) -> set[str]:
    return {f"community:{slug}" for slug in Membership.objects.filter(user=user).values_list("community__slug", flat=True)}


def questions_of(community: Community, *, unanswered: bool = False, asked_by: User | None = None) -> QuerySet[Question]:
    qs = Question.objects.filter(community=community).select_related("author").order_by("-id")
    if unanswered:
        qs = qs.filter(accepted_answer__isnull=True, answer_count=0)
    if asked_by is not None:
        qs = qs.filter(author=asked_by)
    return qs


def question_get(*, user: User, question_id) -> Question:
    question = Question.objects.select_related("community", "author").filter(pk=question_id).first()
    if question is None or not can_read(user, question.community):
        raise NotVisible()
    return question


def answer_get(*, user: User, answer_id) -> Answer:
    answer = Answer.objects.select_related("question__community", "question__author", "author").filter(pk=answer_id).first()
    if answer is None or not can_read(user, answer.question.community):
        raise NotVisible()
    return answer


def article_visible(user: User, article) -> bool:
    return article.community is None or can_read(user, article.community)


def articles_for(user: User):
    from django.db.models import Q

    from .models import Article

    readable = Q(community__isnull=True) | Q(community__visibility=Community.Visibility.OPEN)
    member_of = Membership.objects.filter(user=user).values("community_id")
    return (
        Article.objects.filter(readable | Q(community_id__in=member_of))
        .select_related("author", "community", "service")
        .order_by("-id")
    )


def article_get(*, user: User, article_id):
    from .models import Article

    article = Article.objects.select_related("author", "community", "service").filter(pk=article_id).first()
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
