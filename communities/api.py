from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from servicedesk.errors import ApplicationError

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
        show = request.query_params.get("show", "all")
        if show not in ("all", "unanswered", "mine"):
            raise ApplicationError("Unknown list.", errors={"show": ["Choose all, unanswered or mine."]})
        questions = selectors.questions_of(
            community, unanswered=show == "unanswered", asked_by=request.user if show == "mine" else None
        )[:100]
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


class UnacceptApi(APIView):
    @extend_schema(request=None, responses=inline_serializer("Unaccepted", {"accepted_answer": serializers.IntegerField()}))
    def post(self, request, answer_id: int):
        answer = selectors.answer_get(user=request.user, answer_id=answer_id)
        question = services.answer_unaccept(actor=request.user, answer=answer)
        return Response({"question": question.pk, "accepted_answer": question.accepted_answer_id})


def article_payload(a) -> dict:
    return {
        "id": a.pk, "title": a.title, "body": a.body, "body_html": a.body_html, "revision": a.revision,
        "author": {"username": a.author.username}, "community": a.community.slug if a.community_id else None,
        "service": a.service_id, "helpful_count": a.helpful_count, "created_at": a.created_at.isoformat(),
        "updated_at": a.updated_at.isoformat(), "url": a.get_absolute_url(),
    }


class ArticleInput(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=100_000)
    community = serializers.SlugField(required=False, allow_null=True)
    service = serializers.IntegerField(required=False, allow_null=True)


class ArticleEditInput(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    body = serializers.CharField(max_length=100_000, required=False)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    restore = serializers.IntegerField(required=False, min_value=1, help_text="Bring back this revision as a new one.")


class ArticleListApi(APIView):
    @extend_schema(operation_id="v1_articles_list", responses=inline_serializer("Articles", {"results": serializers.ListField()}))
    def get(self, request):
        return Response({"results": [article_payload(a) for a in selectors.articles_for(request.user)[:100]], "next": None})

    @extend_schema(request=ArticleInput, responses={201: inline_serializer("Article", {"id": serializers.IntegerField()})})
    def post(self, request):
        from tickets.models import Service

        data = ArticleInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        community = selectors.community_readable(user=request.user, slug=values["community"]) if values.get("community") else None
        service = None
        if values.get("service") is not None:
            service = Service.objects.filter(pk=values["service"], active=True).first()
            if service is None:
                raise ApplicationError("Unknown service.", errors={"service": ["No such service."]})
        article = services.article_create(actor=request.user, title=values["title"], body=values["body"],
                                          community=community, service=service)
        return Response(article_payload(article), status=status.HTTP_201_CREATED)


class ArticleDetailApi(APIView):
    @extend_schema(responses=inline_serializer("ArticleDetail", {"id": serializers.IntegerField()}))
    def get(self, request, article_id: int):
        return Response(article_payload(selectors.article_get(user=request.user, article_id=article_id)))

    @extend_schema(request=ArticleEditInput, responses=inline_serializer("ArticleEdited", {"revision": serializers.IntegerField()}))
    def patch(self, request, article_id: int):
        article = selectors.article_get(user=request.user, article_id=article_id)
        data = ArticleEditInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if "restore" in values:
            article = services.article_restore(actor=request.user, article=article, number=values["restore"])
        else:
            article = services.article_edit(actor=request.user, article=article, title=values.get("title"),
                                            body=values.get("body"), note=values["note"])
        return Response(article_payload(article))


class ArticleRevisionsApi(APIView):
    @extend_schema(responses=inline_serializer("ArticleRevisions", {"results": serializers.ListField()}))
    def get(self, request, article_id: int):
        article = selectors.article_get(user=request.user, article_id=article_id)
        revisions = article.revisions.select_related("editor").order_by("-number")
        return Response({"results": [
            {"revision": r.number, "title": r.title, "body": r.body, "editor": {"username": r.editor.username},
             "note": r.note, "created_at": r.created_at.isoformat()} for r in revisions
        ], "next": None})


class ArticleDiffApi(APIView):
    @extend_schema(responses=inline_serializer("ArticleDiff", {"diff": serializers.CharField()}))
    def get(self, request, article_id: int):
        article = selectors.article_get(user=request.user, article_id=article_id)
        try:
            a, b = int(request.query_params.get("from", "")), int(request.query_params.get("to", ""))
        except ValueError:
            raise ApplicationError("Say which revisions.", errors={"from": ["Give two revision numbers: ?from=1&to=2."]}) from None
        return Response({"from": a, "to": b, "diff": selectors.revision_diff(article, a, b)})


class ArticleHelpfulApi(APIView):
    @extend_schema(request=None, responses=inline_serializer("Helpful", {"helpful_count": serializers.IntegerField()}))
    def post(self, request, article_id: int):
        article = selectors.article_get(user=request.user, article_id=article_id)
        return Response({"helpful_count": services.article_helpful(actor=request.user, article=article)})


class PromoteApi(APIView):
    @extend_schema(request=None, responses={201: inline_serializer("Promoted", {"id": serializers.IntegerField()})})
    def post(self, request, answer_id: int):
        answer = selectors.answer_get(user=request.user, answer_id=answer_id)
        article = services.answer_promote(actor=request.user, answer=answer)
        return Response(article_payload(article), status=status.HTTP_201_CREATED)


class QuestionToTicketApi(APIView):
    @extend_schema(request=None, responses={201: inline_serializer("QuestionTicket", {"id": serializers.IntegerField()})})
    def post(self, request, question_id: int):
        question = selectors.question_get(user=request.user, question_id=question_id)
        ticket = services.question_to_ticket(actor=request.user, question=question)
        return Response({"id": ticket.pk, "number": ticket.number, "url": ticket.get_absolute_url()}, status=status.HTTP_201_CREATED)
