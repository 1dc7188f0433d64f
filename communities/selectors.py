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


def questions_of(community: Community) -> QuerySet[Question]:
    return Question.objects.filter(community=community).select_related("author").order_by("-id")


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
