from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors, services
from .models import Community


def community_payload(c: Community, *, viewer=None) -> dict:
    member = selectors.membership(viewer, c) if viewer is not None else None
    return {
        "id": c.pk, "name": c.name, "slug": c.slug, "description": c.description, "visibility": c.visibility,
        "membership": member.role if member else None, "url": c.get_absolute_url(),
    }


def question_payload(q) -> dict:
    return {
        "id": q.pk, "community": q.community.slug, "title": q.title, "body": q.body, "body_html": q.body_html,
        "author": {"username": q.author.username}, "answer_count": q.answer_count,
        "accepted_answer": q.accepted_answer_id, "created_at": q.created_at.isoformat(), "url": q.get_absolute_url(),
    }


def answer_payload(a) -> dict:
    return {
        "id": a.pk, "question": a.question_id, "body": a.body, "body_html": a.body_html,
        "author": {"username": a.author.username}, "score": a.score, "created_at": a.created_at.isoformat(),
    }


class CommunityInput(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    slug = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    visibility = serializers.ChoiceField(choices=Community.Visibility.choices, default=Community.Visibility.OPEN)


class CommunityListApi(APIView):
    @extend_schema(responses=inline_serializer("Communities", {"results": serializers.ListField()}))
    def get(self, request):
        return Response({"results": [community_payload(c, viewer=request.user) for c in selectors.communities_for(request.user)],
                         "next": None})

    @extend_schema(request=CommunityInput, responses={201: inline_serializer("Community", {"slug": serializers.CharField()})})
    def post(self, request):
        data = CommunityInput(data=request.data)
        data.is_valid(raise_exception=True)
        community = services.community_create(actor=request.user, **data.validated_data)
        return Response(community_payload(community, viewer=request.user), status=status.HTTP_201_CREATED)


class JoinApi(APIView):
    @extend_schema(request=None, responses=inline_serializer("JoinState", {"state": serializers.CharField()}))
    def post(self, request, slug: str):
        community = selectors.community_get(user=request.user, slug=slug)
        return Response({"state": services.community_join(actor=request.user, community=community)})


class JoinRequestDecisionApi(APIView):
    approve = True

    @extend_schema(request=None, responses=inline_serializer("JoinDecision", {"status": serializers.CharField()}))
    def post(self, request, slug: str, request_id: int):
        community = selectors.community_get(user=request.user, slug=slug)
        decided = services.join_request_decide(actor=request.user, community=community, request_id=request_id, approve=self.approve)
        return Response({"id": decided.pk, "status": decided.status})


class JoinRequestRejectApi(JoinRequestDecisionApi):
    approve = False


class QuestionInput(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(required=False, allow_blank=True, default="", max_length=20_000)


class QuestionListApi(APIView):
    @extend_schema(responses=inline_serializer("Questions", {"results": serializers.ListField()}))
    def get(self, request, slug: str):
        community = selectors.community_readable(user=request.user, slug=slug)
        questions = selectors.questions_of(community)[:100]
        return Response({"results": [question_payload(q) for q in questions], "next": None})

    @extend_schema(request=QuestionInput, responses={201: inline_serializer("Question", {"id": serializers.IntegerField()})})
    def post(self, request, slug: str):
        community = selectors.community_readable(user=request.user, slug=slug)
        data = QuestionInput(data=request.data)
        data.is_valid(raise_exception=True)
        question = services.question_ask(actor=request.user, community=community, **data.validated_data)
        return Response(question_payload(question), status=status.HTTP_201_CREATED)


class AnswerInput(serializers.Serializer):
    body = serializers.CharField(max_length=20_000)


class AnswerCreateApi(APIView):
    @extend_schema(request=AnswerInput, responses={201: inline_serializer("Answer", {"id": serializers.IntegerField()})})
    def post(self, request, question_id: int):
        question = selectors.question_get(user=request.user, question_id=question_id)
        data = AnswerInput(data=request.data)
        data.is_valid(raise_exception=True)
        answer = services.answer_post(actor=request.user, question=question, body=data.validated_data["body"])
        return Response(answer_payload(answer), status=status.HTTP_201_CREATED)


class VoteInput(serializers.Serializer):
    value = serializers.ChoiceField(choices=[1, -1])


class VoteApi(APIView):
    @extend_schema(request=VoteInput, responses=inline_serializer("Voted", {"score": serializers.IntegerField()}))
    def post(self, request, answer_id: int):
        answer = selectors.answer_get(user=request.user, answer_id=answer_id)
        data = VoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        answer = services.answer_vote(actor=request.user, answer=answer, value=data.validated_data["value"])
        return Response({"id": answer.pk, "score": answer.score})


class AcceptApi(APIView):
    @extend_schema(request=None, responses=inline_serializer("Accepted", {"accepted_answer": serializers.IntegerField()}))
    def post(self, request, answer_id: int):
        answer = selectors.answer_get(user=request.user, answer_id=answer_id)
        question = services.answer_accept(actor=request.user, answer=answer)
        return Response({"question": question.pk, "accepted_answer": question.accepted_answer_id})
