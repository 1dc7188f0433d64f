from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import account_named
from servicedesk.errors import ApplicationError, NotVisible
from servicedesk.schema import NOT_BLANK

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
        "tags": q.tags, "view_count": q.view_count, "votes": getattr(q, "votes", None),
        "last_activity_at": q.last_activity_at.isoformat() if q.last_activity_at else None,
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
    tags = serializers.ListField(child=serializers.CharField(max_length=30), max_length=5, required=False, default=list)


class QuestionListApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("show", str, enum=["all", "unanswered", "mine"]),
            OpenApiParameter("sort", str, enum=list(selectors.QUESTION_SORTS)),
            OpenApiParameter("tag", str),
        ],
        responses=inline_serializer("Questions", {"results": serializers.ListField()}),
    )
    def get(self, request, slug: str):
        community = selectors.community_readable(user=request.user, slug=slug)
        show = request.query_params.get("show", "all")
        if show not in ("all", "unanswered", "mine"):
            raise ApplicationError("Unknown list.", errors={"show": ["Choose all, unanswered or mine."]})
        sort = request.query_params.get("sort", "new")
        if sort not in selectors.QUESTION_SORTS:
            raise ApplicationError("Unknown order.", errors={"sort": [f"Choose one of {', '.join(selectors.QUESTION_SORTS)}."]})
        questions = selectors.questions_of(
            community, unanswered=show == "unanswered", asked_by=request.user if show == "mine" else None,
            sort=sort, tag=request.query_params.get("tag", "").strip().lower()[:30],
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
    @extend_schema(request=None, responses=inline_serializer("Unaccepted", {
        "question": serializers.IntegerField(), "accepted_answer": serializers.IntegerField(allow_null=True)}))
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
    @extend_schema(parameters=[OpenApiParameter("from", {"type": "integer", "minimum": -2**63, "maximum": 2**63 - 1}, required=True),
                               OpenApiParameter("to", {"type": "integer", "minimum": -2**63, "maximum": 2**63 - 1}, required=True)],
                   responses=inline_serializer("ArticleDiff", {"diff": serializers.CharField()}))
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


# --- membership: leave, invitations, removal --------------------------------------------------


class LeaveApi(APIView):
    @extend_schema(request=None, responses=inline_serializer("Left", {"state": serializers.CharField()}))
    def post(self, request, slug: str):
        community = selectors.community_readable(user=request.user, slug=slug)
        services.community_leave(actor=request.user, community=community)
        return Response({"state": "left"})


def _user_or_400(username: str, field: str = "username"):
    user = account_named(username)
    if user is None:
        raise ApplicationError("No such person.", errors={field: ["No active account has that username."]})
    return user


def invitation_payload(i) -> dict:
    return {"id": i.pk, "community": i.community.slug, "user": {"username": i.user.username},
            "invited_by": {"username": i.invited_by.username}, "status": i.status, "created_at": i.created_at.isoformat()}


class UsernameInput(serializers.Serializer):
    username = serializers.CharField(max_length=150)


class InvitationCreateApi(APIView):
    @extend_schema(request=UsernameInput, responses={201: inline_serializer("Invitation", {"id": serializers.IntegerField()})})
    def post(self, request, slug: str):
        community = selectors.community_get(user=request.user, slug=slug)
        data = UsernameInput(data=request.data)
        data.is_valid(raise_exception=True)
        # Whether the person exists is told only to those who may invite.
        selectors.require_moderator(request.user, community, "Only the community's owners and moderators invite people.")
        invitation = services.invitation_create(actor=request.user, community=community,
                                                user=_user_or_400(data.validated_data["username"]))
        return Response(invitation_payload(invitation), status=status.HTTP_201_CREATED)


class MyInvitationsApi(APIView):
    @extend_schema(responses=inline_serializer("Invitations", {"results": serializers.ListField()}))
    def get(self, request):
        return Response({"results": [invitation_payload(i) for i in selectors.invitations_for(request.user)], "next": None})


class InvitationDecisionApi(APIView):
    accept = True

    @extend_schema(request=None, responses=inline_serializer("InvitationDecision", {"status": serializers.CharField()}))
    def post(self, request, invitation_id: int):
        invitation = services.invitation_decide(actor=request.user, invitation_id=invitation_id, accept=self.accept)
        return Response({"id": invitation.pk, "status": invitation.status})


class InvitationDeclineApi(InvitationDecisionApi):
    accept = False


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class MemberDetailApi(APIView):
    @extend_schema(request=ReasonInput, responses={204: None})
    def delete(self, request, slug: str, username: str):
        community = selectors.community_readable(user=request.user, slug=slug)
        data = ReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = account_named(username, active_only=False)
        if user is None:
            selectors.require_moderator(request.user, community, "Only the community's owners and moderators remove members.")
            raise NotVisible()
        services.member_remove(actor=request.user, community=community, user=user, reason=data.validated_data["reason"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class MembersApi(APIView):
    @extend_schema(responses=inline_serializer("Members", {"results": serializers.ListField()}))
    def get(self, request, slug: str):
        community = selectors.community_readable(user=request.user, slug=slug)
        members = community.memberships.select_related("user").order_by("role", "user__username")[:500]
        return Response({"results": [{"username": m.user.username, "display_name": m.user.display_name, "role": m.role}
                                     for m in members], "next": None})


class RemovalsApi(APIView):
    forbidden_reads = {"get"}

    @extend_schema(responses=inline_serializer("Removals", {"results": serializers.ListField()}))
    def get(self, request, slug: str):
        community = selectors.community_get(user=request.user, slug=slug)
        removals = selectors.removals_of(user=request.user, community=community)[:500]
        return Response({"results": [
            {"user": {"username": r.user.username}, "removed_by": {"username": r.removed_by.username} if r.removed_by else None,
             "reason": r.reason, "created_at": r.created_at.isoformat(),
             "lifted_at": r.lifted_at.isoformat() if r.lifted_at else None}
            for r in removals
        ], "next": None})


class RemoveInput(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


def _remove(request, item):
    data = RemoveInput(data=request.data)
    data.is_valid(raise_exception=True)
    removed = services.content_remove(actor=request.user, item=item, reason=data.validated_data["reason"])
    return Response({"id": removed.pk, "removed": True, "removed_by": {"username": request.user.username},
                     "reason": removed.removed_reason})


class QuestionRemoveApi(APIView):
    @extend_schema(request=RemoveInput, responses=inline_serializer("Removed", {"removed": serializers.BooleanField()}))
    def post(self, request, question_id: int):
        return _remove(request, selectors.question_get(user=request.user, question_id=question_id))


class AnswerRemoveApi(APIView):
    @extend_schema(request=RemoveInput, responses=inline_serializer("AnswerRemoved", {"removed": serializers.BooleanField()}))
    def post(self, request, answer_id: int):
        return _remove(request, selectors.answer_get(user=request.user, answer_id=answer_id))


class ArticleRemoveApi(APIView):
    @extend_schema(request=RemoveInput, responses=inline_serializer("ArticleRemoved", {"removed": serializers.BooleanField()}))
    def post(self, request, article_id: int):
        return _remove(request, selectors.article_get(user=request.user, article_id=article_id))


class QuestionDetailApi(APIView):
    @extend_schema(responses=inline_serializer("QuestionDetail", {"id": serializers.IntegerField()}))
    def get(self, request, question_id: int):
        question = selectors.question_get(user=request.user, question_id=question_id)
        page = selectors.question_page(user=request.user, question=question)
        return Response({**question_payload(question), "answers": [
            {**answer_payload(a), "my_vote": a.my_vote, "comments": [
                {"id": c.pk, "author": {"username": c.author.username}, "body": c.body, "body_html": c.body_html,
                 "created_at": c.created_at.isoformat()} for c in a.comments.all()]}
            for a in page.answers]})


class AnswerCommentInput(serializers.Serializer):
    body = serializers.CharField(max_length=2000)


class AnswerCommentsApi(APIView):
    @extend_schema(request=AnswerCommentInput, responses={201: inline_serializer("AnswerComment", {"id": serializers.IntegerField()})})
    def post(self, request, answer_id: int):
        answer = selectors.answer_get(user=request.user, answer_id=answer_id)
        data = AnswerCommentInput(data=request.data)
        data.is_valid(raise_exception=True)
        comment = services.answer_comment_add(actor=request.user, answer=answer, body=data.validated_data["body"])
        return Response({"id": comment.pk, "answer": answer.pk, "body": comment.body, "body_html": comment.body_html,
                         "author": {"username": request.user.username}}, status=status.HTTP_201_CREATED)


class CommunityDetailApi(APIView):
    @extend_schema(operation_id="v1_community_detail", responses=inline_serializer("CommunityDetail", {"slug": serializers.CharField()}))
    def get(self, request, slug: str):
        community = selectors.community_get(user=request.user, slug=slug)
        payload = community_payload(community, viewer=request.user)
        if selectors.can_read(request.user, community):
            payload["services"] = [{"id": s.pk, "name": s.name} for s in community.services.filter(active=True)]
            payload["bridges"] = [{"slug": c.slug, "name": c.name} for c in selectors.bridges_of(request.user, community)]
        return Response(payload)


class ServicesInput(serializers.Serializer):
    services = serializers.ListField(child=serializers.IntegerField(), max_length=50)


class CommunityServicesApi(APIView):
    @extend_schema(request=ServicesInput, responses=inline_serializer("CommunityServices", {"services": serializers.ListField()}))
    def put(self, request, slug: str):
        from tickets.models import Service

        community = selectors.community_readable(user=request.user, slug=slug)
        data = ServicesInput(data=request.data)
        data.is_valid(raise_exception=True)
        wanted = set(data.validated_data["services"])
        found = list(Service.objects.filter(pk__in=wanted, active=True))
        if len(found) != len(wanted):
            raise ApplicationError("Unknown service.", errors={"services": ["One of these is not an active service."]})
        services.community_services_set(actor=request.user, community=community, services=found)
        return Response({"services": sorted(s.pk for s in found)})


# --- bridges -----------------------------------------------------------------------------------


class BridgeInput(serializers.Serializer):
    target = serializers.SlugField()


def bridge_payload(b, *, viewer) -> dict:
    return {"id": b.pk, "source": b.source.slug, "target": b.target.slug, "status": b.status}


class BridgesApi(APIView):
    @extend_schema(responses=inline_serializer("Bridges", {"results": serializers.ListField()}))
    def get(self, request, slug: str):
        community = selectors.community_readable(user=request.user, slug=slug)
        return Response({"results": [{"slug": c.slug, "name": c.name, "url": c.get_absolute_url()}
                                     for c in selectors.bridges_of(request.user, community)], "next": None})

    @extend_schema(request=BridgeInput, responses={201: inline_serializer("Bridge", {"id": serializers.IntegerField()})})
    def post(self, request, slug: str):
        community = selectors.community_readable(user=request.user, slug=slug)
        data = BridgeInput(data=request.data)
        data.is_valid(raise_exception=True)
        target = Community.objects.filter(slug=data.validated_data["target"]).first()
        if target is None:
            selectors.require_moderator(request.user, community, "Only the community's owners and moderators link communities.")
            raise NotVisible()
        bridge = services.bridge_propose(actor=request.user, source=community, target=target)
        return Response(bridge_payload(bridge, viewer=request.user), status=status.HTTP_201_CREATED)


class BridgeAcceptApi(APIView):
    @extend_schema(request=None, responses=inline_serializer("BridgeAccepted", {"status": serializers.CharField()}))
    def post(self, request, slug: str, bridge_id: int):
        from .models import Bridge

        community = selectors.community_readable(user=request.user, slug=slug)
        bridge = Bridge.objects.select_related("source", "target").filter(pk=bridge_id, target=community).first()
        if bridge is None:
            raise NotVisible()
        bridge = services.bridge_accept(actor=request.user, bridge=bridge)
        return Response(bridge_payload(bridge, viewer=request.user))


# --- ideas and polls ---------------------------------------------------------------------------


def idea_payload(i, *, voted=None) -> dict:
    return {
        "id": i.pk, "community": i.community.slug, "title": i.title, "body": i.body, "body_html": i.body_html,
        "author": {"username": i.author.username}, "status": i.status, "status_note": i.status_note,
        "vote_count": i.vote_count, "voted": getattr(i, "voted", voted), "created_at": i.created_at.isoformat(),
        "url": i.get_absolute_url(),
    }


class IdeaInput(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(required=False, allow_blank=True, default="", max_length=20_000)


class IdeaStatusInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=["new", "under_review", "planned", "done", "declined"])
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class IdeaListApi(APIView):
    @extend_schema(parameters=[OpenApiParameter("status", str, enum=["new", "under_review", "planned", "done", "declined"])],
                   responses=inline_serializer("Ideas", {"results": serializers.ListField()}))
    def get(self, request, slug: str):
        from .models import Idea

        community = selectors.community_readable(user=request.user, slug=slug)
        wanted = request.query_params.get("status", "")
        if wanted and wanted not in Idea.Status.values:
            raise ApplicationError("Unknown status.", errors={"status": [f"Choose one of {', '.join(Idea.Status.values)}."]})
        ideas = selectors.ideas_of(request.user, community, status=wanted, limit=100)
        return Response({"results": [idea_payload(i) for i in ideas], "next": None})

    @extend_schema(request=IdeaInput, responses={201: inline_serializer("Idea", {"id": serializers.IntegerField()})})
    def post(self, request, slug: str):
        community = selectors.community_readable(user=request.user, slug=slug)
        data = IdeaInput(data=request.data)
        data.is_valid(raise_exception=True)
        idea = services.idea_create(actor=request.user, community=community, **data.validated_data)
        return Response(idea_payload(idea, voted=False), status=status.HTTP_201_CREATED)


class IdeaDetailApi(APIView):
    @extend_schema(operation_id="v1_community_idea_detail", responses=inline_serializer("IdeaDetail", {"id": serializers.IntegerField()}))
    def get(self, request, slug: str, idea_id: int):
        community = selectors.community_get(user=request.user, slug=slug)
        return Response(idea_payload(selectors.idea_get(user=request.user, community=community, idea_id=idea_id)))

    @extend_schema(request=IdeaStatusInput, responses=inline_serializer("IdeaStatus", {"status": serializers.CharField()}))
    def patch(self, request, slug: str, idea_id: int):
        community = selectors.community_get(user=request.user, slug=slug)
        idea = selectors.idea_get(user=request.user, community=community, idea_id=idea_id)
        selectors.require_moderator(request.user, community, "Only the community's moderators set an idea's status.")
        data = IdeaStatusInput(data=request.data)
        data.is_valid(raise_exception=True)
        idea = services.idea_status_set(actor=request.user, idea=idea, **data.validated_data)
        return Response(idea_payload(idea))


class IdeaVoteApi(APIView):
    @extend_schema(request=None, responses=inline_serializer("IdeaVoted", {"vote_count": serializers.IntegerField()}))
    def post(self, request, slug: str, idea_id: int):
        community = selectors.community_get(user=request.user, slug=slug)
        idea = selectors.idea_get(user=request.user, community=community, idea_id=idea_id)
        idea = services.idea_vote(actor=request.user, idea=idea)
        return Response({"id": idea.pk, "vote_count": idea.vote_count})


class IdeaRemoveApi(APIView):
    @extend_schema(request=RemoveInput, responses=inline_serializer("IdeaRemoved", {"removed": serializers.BooleanField()}))
    def post(self, request, slug: str, idea_id: int):
        community = selectors.community_get(user=request.user, slug=slug)
        return _remove(request, selectors.idea_get(user=request.user, community=community, idea_id=idea_id))


def poll_payload(p) -> dict:
    return {
        "id": p.pk, "community": p.community.slug, "question": p.question, "closes_at": p.closes_at.isoformat(),
        "open": p.is_open, "author": {"username": p.author.username}, "my_vote": p.my_option, "total": p.total,
        "options": [{"id": o.pk, "label": o.label, "votes": o.vote_count} for o in p.options.all()],
    }


class PollInput(serializers.Serializer):
    question = serializers.CharField(max_length=200)
    options = serializers.ListField(child=serializers.CharField(max_length=120), min_length=2, max_length=10)
    closes_at = serializers.DateTimeField()


class PollVoteInput(serializers.Serializer):
    option = serializers.IntegerField()


class PollListApi(APIView):
    @extend_schema(responses=inline_serializer("Polls", {"results": serializers.ListField()}))
    def get(self, request, slug: str):
        community = selectors.community_readable(user=request.user, slug=slug)
        return Response({"results": [poll_payload(p) for p in selectors.polls_of(request.user, community, limit=100)], "next": None})

    @extend_schema(request=PollInput, responses={201: inline_serializer("Poll", {"id": serializers.IntegerField()})})
    def post(self, request, slug: str):
        community = selectors.community_readable(user=request.user, slug=slug)
        data = PollInput(data=request.data)
        data.is_valid(raise_exception=True)
        poll = services.poll_create(actor=request.user, community=community, **data.validated_data)
        return Response(poll_payload(selectors.poll_detail(user=request.user, poll=poll)), status=status.HTTP_201_CREATED)


class PollDetailApi(APIView):
    @extend_schema(operation_id="v1_community_poll_detail", responses=inline_serializer("PollDetail", {"id": serializers.IntegerField()}))
    def get(self, request, slug: str, poll_id: int):
        community = selectors.community_get(user=request.user, slug=slug)
        poll = selectors.poll_get(user=request.user, community=community, poll_id=poll_id)
        return Response(poll_payload(selectors.poll_detail(user=request.user, poll=poll)))


class PollVoteApi(APIView):
    @extend_schema(request=PollVoteInput, responses=inline_serializer("PollVoted", {"id": serializers.IntegerField()}))
    def post(self, request, slug: str, poll_id: int):
        community = selectors.community_get(user=request.user, slug=slug)
        poll = selectors.poll_get(user=request.user, community=community, poll_id=poll_id)
        data = PollVoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        poll = services.poll_vote(actor=request.user, poll=poll, option_id=data.validated_data["option"])
        return Response(poll_payload(selectors.poll_detail(user=request.user, poll=poll)))


# --- search ------------------------------------------------------------------------------------


class CommunitySearchApi(APIView):
    @extend_schema(parameters=[OpenApiParameter("q", str, required=True, pattern=NOT_BLANK)], responses=inline_serializer("CommunitySearch", {"results": serializers.ListField()}))
    def get(self, request):
        text = (request.query_params.get("q") or "").strip()
        if not text:
            raise ApplicationError("Say what to look for.", errors={"q": ["This field may not be blank."]})
        hits = selectors.community_search(user=request.user, text=text[:200])
        return Response({"results": [
            {"type": h.kind, "id": h.id, "title": h.title, "snippet": h.snippet, "community": h.community, "url": h.url}
            for h in hits], "next": None})
