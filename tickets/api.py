from django.http import FileResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Team, User
from servicedesk.api import Pagination
from servicedesk.schema import ID, comma_list, page_parameters
from servicedesk.errors import ApplicationError

from . import selectors, services
from .models import Attachment, Kind, Priority, Service, Status, Visibility


def _user(u):
    return u.username if u else None


class TicketOutput(serializers.Serializer):
    # Declared for the schema; the payload is built below.
    id = serializers.IntegerField()
    number = serializers.CharField()
    kind = serializers.ChoiceField(choices=Kind.choices)
    title = serializers.CharField()
    description = serializers.CharField()
    description_html = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.choices)
    priority = serializers.IntegerField()
    impact = serializers.IntegerField()
    urgency = serializers.IntegerField()
    requester = serializers.CharField(allow_null=True)
    assignee = serializers.CharField(allow_null=True)
    team = serializers.IntegerField(allow_null=True)
    team_name = serializers.CharField(allow_null=True)
    service = serializers.IntegerField(allow_null=True)
    service_name = serializers.CharField(allow_null=True)
    visibility = serializers.ChoiceField(choices=Visibility.choices)
    problem = serializers.IntegerField(allow_null=True)
    sla_due_at = serializers.DateTimeField(allow_null=True)
    response_due_at = serializers.DateTimeField(allow_null=True)
    sla_paused = serializers.BooleanField()
    sla_breached = serializers.BooleanField()
    first_response_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    me_too_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    url = serializers.CharField()

    def to_representation(self, t):
        return {
            "id": t.pk,
            "number": t.number,
            "kind": t.kind,
            "title": t.title,
            "description": t.description,
            "description_html": t.description_html,
            "status": t.status,
            "priority": t.priority,
            "impact": t.impact,
            "urgency": t.urgency,
            "requester": _user(t.requester),
            "assignee": _user(t.assignee),
            "team": t.team_id,
            "team_name": t.team.name if t.team_id else None,
            "service": t.service_id,
            "service_name": t.service.name if t.service_id else None,
            "visibility": t.visibility,
            "problem": t.problem_id,
            "sla_due_at": t.resolution_due_at,
            "response_due_at": t.response_due_at,
            "sla_paused": t.sla_paused_at is not None,
            "sla_breached": bool(t.response_breached_at or t.resolution_breached_at),
            "first_response_at": t.first_response_at,
            "resolved_at": t.resolved_at,
            "closed_at": t.closed_at,
            "me_too_count": t.me_too_count,
            "created_at": t.created_at,
            "updated_at": t.updated_at,
            "url": t.get_absolute_url(),
        }


def _as_json(data: dict) -> dict:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()}


def ticket_json(ticket) -> dict:
    return _as_json(TicketOutput().to_representation(ticket))


class TicketCreateInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Kind.choices)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=50_000)
    service = serializers.PrimaryKeyRelatedField(queryset=Service.objects.filter(active=True), required=False, allow_null=True)
    impact = serializers.IntegerField(min_value=1, max_value=3)
    urgency = serializers.IntegerField(min_value=1, max_value=3)
    visibility = serializers.ChoiceField(choices=Visibility.choices, default=Visibility.PRIVATE)


class TicketUpdateInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    assignee = serializers.SlugRelatedField(slug_field="username", queryset=User.objects.filter(is_active=True), required=False, allow_null=True)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)


class TicketListApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("status", comma_list(Status.values), explode=True, description="Comma-separated, repeatable."),
            OpenApiParameter("kind", comma_list(Kind.values), explode=True, description="Comma-separated, repeatable."),
            OpenApiParameter("priority", comma_list([str(p) for p in Priority.values]), explode=True,
                             description="Comma-separated, repeatable."),
            *(OpenApiParameter(n, ID) for n in ("team", "service")),
            *(OpenApiParameter(n, str) for n in ("assignee", "requester", "q")),
            *(OpenApiParameter(n, bool) for n in ("following", "breached")),
            OpenApiParameter("sla", str, enum=["soon", "breached"],
                             description="soon: open, not breached, resolution due within the SLA warning window; "
                                         "breached: as breached=true."),
            OpenApiParameter("sort", str, enum=list(selectors.SORTS)),
            *page_parameters(),
            OpenApiParameter("page", {"type": "integer", "maximum": 1_000_000},
                             description="Page number of a ranked or sorted list (`q` or `sort` given)."),
        ],
        responses=TicketOutput(many=True),
    )
    def get(self, request):
        filters, errors = selectors.parse_filters(request.query_params, user=request.user)
        if errors:
            raise ApplicationError("Invalid filter.", errors=errors)
        qs = selectors.ticket_list(user=request.user, filters=filters, with_text=True)
        if filters.q or filters.sort != "-id":
            # Ranked or sorted lists page by offset; the default list pages by cursor.
            paginator = _OffsetPagination()
        else:
            paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response([ticket_json(t) for t in page])

    @extend_schema(request=TicketCreateInput, responses={201: TicketOutput})
    def post(self, request):
        data = TicketCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        ticket = services.ticket_create(actor=request.user, **data.validated_data)
        return Response(ticket_json(selectors.ticket_get(user=request.user, ticket_id=ticket.pk)), status=status.HTTP_201_CREATED)


class _OffsetPagination:
    page_size = 25
    max_page_size = 100
    # Keeps the row offset within the database's integers.
    max_page = 1_000_000

    def paginate_queryset(self, qs, request, view=None):

        try:
            size = min(self.max_page_size, max(1, int(request.query_params.get("page_size", self.page_size))))
            number = max(1, int(request.query_params.get("page", 1)))
        except ValueError:
            raise ApplicationError("Invalid page.", errors={"page": ["Give a whole number."]}) from None
        if number > self.max_page:
            raise ApplicationError("Invalid page.", errors={"page": [f"Give a number up to {self.max_page}."]})
        self.request = request
        rows = list(qs[(number - 1) * size : number * size + 1])
        self.has_next = len(rows) > size
        self.number = number
        return rows[:size]

    def get_paginated_response(self, data):
        next_url = None
        if self.has_next:
            params = self.request.query_params.copy()
            params["page"] = str(self.number + 1)
            next_url = self.request.build_absolute_uri(f"{self.request.path}?{params.urlencode()}")
        return Response({"results": data, "next": next_url})


class TicketDetailApi(APIView):
    @extend_schema(responses=TicketOutput)
    def get(self, request, ticket_id: int):
        return Response(ticket_json(selectors.ticket_get(user=request.user, ticket_id=ticket_id)))

    @extend_schema(request=TicketUpdateInput, responses=TicketOutput)
    def patch(self, request, ticket_id: int):
        ticket = selectors.ticket_get(user=request.user, ticket_id=ticket_id)
        if not selectors.is_staff(request.user):
            raise ApplicationError("Only agents change tickets.", status=403)
        data = TicketUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        services.ticket_update(
            actor=request.user,
            ticket=ticket,
            status=values.get("status"),
            assignee=values["assignee"] if "assignee" in values else ...,
            priority=values.get("priority"),
            team=values["team"] if "team" in values else ...,
            visibility=values.get("visibility"),
        )
        return Response(ticket_json(selectors.ticket_get(user=request.user, ticket_id=ticket_id)))


class AttachmentOutput(serializers.Serializer):
    id = serializers.CharField()
    filename = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    url = serializers.CharField()


class CommentOutput(serializers.Serializer):
    # Declared for the schema; the payload is built below.
    id = serializers.IntegerField()
    author = serializers.CharField()
    body = serializers.CharField()
    body_html = serializers.CharField()
    internal = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    attachments = AttachmentOutput(many=True)

    def to_representation(self, c):
        return {
            "id": c.pk,
            "author": c.author.username,
            "body": c.body,
            "body_html": c.body_html,
            "internal": c.internal,
            "created_at": c.created_at.isoformat(),
            "attachments": [
                {"id": a.token, "filename": a.filename, "content_type": a.content_type, "size": a.size,
                 "url": f"/api/v1/attachments/{a.token}/"}
                for a in c.attachments.all()
            ],
        }


class CommentInput(serializers.Serializer):
    body = serializers.CharField(max_length=20_000)
    internal = serializers.BooleanField(default=False)
    attachments = serializers.ListField(child=serializers.CharField(max_length=40), required=False, default=list, max_length=10)


class CommentsApi(APIView):
    @extend_schema(responses=CommentOutput(many=True))
    def get(self, request, ticket_id: int):
        ticket = selectors.ticket_get(user=request.user, ticket_id=ticket_id)
        comments = selectors.comments_for(user=request.user, ticket=ticket)
        return Response({"results": [CommentOutput().to_representation(c) for c in comments], "next": None})

    @extend_schema(request=CommentInput, responses={201: CommentOutput})
    def post(self, request, ticket_id: int):
        ticket = selectors.ticket_get(user=request.user, ticket_id=ticket_id)
        data = CommentInput(data=request.data)
        data.is_valid(raise_exception=True)
        tokens = data.validated_data["attachments"]
        attachments = list(Attachment.objects.filter(ticket=ticket, token__in=tokens, uploaded_by=request.user))
        if len(attachments) != len(set(tokens)):
            raise ApplicationError("Unknown attachment.", errors={"attachments": ["Upload files to this ticket first."]})
        comment = services.comment_add(
            actor=request.user, ticket=ticket, body=data.validated_data["body"],
            internal=data.validated_data["internal"], attachments=attachments,
        )
        return Response(CommentOutput().to_representation(comment), status=status.HTTP_201_CREATED)


class AttachmentUploadApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": {
            "type": "object", "required": ["file"],
            "properties": {"file": {"type": "string", "format": "binary", "minLength": 1,
                                    "description": "An image, PDF, text, CSV, Office document or ZIP, judged by content."}},
        }},
        responses={201: inline_serializer("Attachment", {"id": serializers.CharField(), "filename": serializers.CharField()})},
    )
    def post(self, request, ticket_id: int):
        ticket = selectors.ticket_get(user=request.user, ticket_id=ticket_id)
        upload = request.FILES.get("file")
        if upload is None:
            raise ApplicationError("Attach a file.", errors={"file": ["No file was submitted."]})
        a = services.attachment_add(actor=request.user, ticket=ticket, upload=upload)
        return Response(
            {"id": a.token, "filename": a.filename, "content_type": a.content_type, "size": a.size,
             "url": f"/api/v1/attachments/{a.token}/"},
            status=status.HTTP_201_CREATED,
        )


def attachment_response(attachment: Attachment) -> FileResponse:
    response = FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.filename,
                            content_type=attachment.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


class AttachmentDownloadApi(APIView):
    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    def get(self, request, token: str):
        attachment = Attachment.objects.select_related("ticket", "comment").filter(token=token).first()
        if attachment is None or not selectors.can_see(request.user, attachment.ticket):
            raise ApplicationError("Not found.", status=404)
        if attachment.comment and attachment.comment.internal and not selectors.is_staff(request.user):
            raise ApplicationError("Not found.", status=404)
        if attachment.comment is None and attachment.uploaded_by_id != request.user.pk and not selectors.is_staff(request.user):
            raise ApplicationError("Not found.", status=404)
        return attachment_response(attachment)


class FollowApi(APIView):
    @extend_schema(request=None, responses=inline_serializer("Following", {"following": serializers.BooleanField()}))
    def post(self, request, ticket_id: int):
        ticket = selectors.ticket_get(user=request.user, ticket_id=ticket_id)
        services.ticket_follow(actor=request.user, ticket=ticket)
        return Response({"following": True})

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, ticket_id: int):
        ticket = selectors.ticket_get(user=request.user, ticket_id=ticket_id)
        services.ticket_unfollow(actor=request.user, ticket=ticket)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeTooApi(APIView):
    @extend_schema(request=None, responses=inline_serializer("MeToo", {"me_too_count": serializers.IntegerField()}))
    def post(self, request, ticket_id: int):
        ticket = selectors.ticket_get(user=request.user, ticket_id=ticket_id)
        ticket = services.ticket_me_too(actor=request.user, ticket=ticket)
        return Response({"me_too": True, "me_too_count": ticket.me_too_count})

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, ticket_id: int):
        ticket = selectors.ticket_get(user=request.user, ticket_id=ticket_id)
        services.ticket_me_too_withdraw(actor=request.user, ticket=ticket)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RatingInput(serializers.Serializer):
    score = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class RatingApi(APIView):
    @extend_schema(request=RatingInput, responses={201: inline_serializer("Rating", {"score": serializers.IntegerField()})})
    def post(self, request, ticket_id: int):
        ticket = selectors.ticket_get(user=request.user, ticket_id=ticket_id)
        data = RatingInput(data=request.data)
        data.is_valid(raise_exception=True)
        rating = services.rating_create(actor=request.user, ticket=ticket, **data.validated_data)
        return Response(
            {"id": rating.pk, "score": rating.score, "comment": rating.comment, "created_at": rating.created_at.isoformat()},
            status=status.HTTP_201_CREATED,
        )


class ReopenInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class ReopenApi(APIView):
    @extend_schema(request=ReopenInput, responses=TicketOutput)
    def post(self, request, ticket_id: int):
        ticket = selectors.ticket_get(user=request.user, ticket_id=ticket_id)
        data = ReopenInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.ticket_reopen(actor=request.user, ticket=ticket, reason=data.validated_data["reason"])
        return Response(ticket_json(selectors.ticket_get(user=request.user, ticket_id=ticket_id)))


class ProblemLinkInput(serializers.Serializer):
    incident = serializers.IntegerField()


class ProblemIncidentsApi(APIView):
    @extend_schema(request=ProblemLinkInput, responses=TicketOutput)
    def post(self, request, ticket_id: int):
        problem = selectors.ticket_get(user=request.user, ticket_id=ticket_id)
        data = ProblemLinkInput(data=request.data)
        data.is_valid(raise_exception=True)
        incident = selectors.ticket_get(user=request.user, ticket_id=data.validated_data["incident"])
        services.problem_link(actor=request.user, problem=problem, incident=incident)
        return Response(ticket_json(selectors.ticket_get(user=request.user, ticket_id=incident.pk)))


class ProblemUnlinkApi(APIView):
    @extend_schema(request=None, responses={204: None})
    def delete(self, request, ticket_id: int, incident_id: int):
        problem = selectors.ticket_get(user=request.user, ticket_id=ticket_id)
        incident = selectors.ticket_get(user=request.user, ticket_id=incident_id)
        services.problem_unlink(actor=request.user, problem=problem, incident=incident)
        return Response(status=204)


class MergeInput(serializers.Serializer):
    into = serializers.IntegerField(min_value=1)


class MergeApi(APIView):
    """Merge this ticket (a duplicate) into `into`; 400 across visibility."""

    @extend_schema(request=MergeInput, responses=TicketOutput)
    def post(self, request, ticket_id: int):
        duplicate = selectors.ticket_get(user=request.user, ticket_id=ticket_id)
        data = MergeInput(data=request.data)
        data.is_valid(raise_exception=True)
        target = selectors.ticket_get(user=request.user, ticket_id=data.validated_data["into"])
        services.ticket_merge(actor=request.user, duplicate=duplicate, target=target)
        return Response(ticket_json(selectors.ticket_get(user=request.user, ticket_id=target.pk)))


class ProblemResolveInput(serializers.Serializer):
    note = serializers.CharField(max_length=20_000)
    resolve_incidents = serializers.BooleanField(default=True)


class ProblemResolveApi(APIView):
    @extend_schema(request=ProblemResolveInput, responses=inline_serializer("Resolved", {"resolved": serializers.ListField(child=serializers.IntegerField())}))
    def post(self, request, ticket_id: int):
        problem = selectors.ticket_get(user=request.user, ticket_id=ticket_id)
        data = ProblemResolveInput(data=request.data)
        data.is_valid(raise_exception=True)
        resolved = services.problem_resolve(actor=request.user, problem=problem, **data.validated_data)
        return Response({"resolved": [t.pk for t in resolved]})


class ServiceListApi(APIView):
    @extend_schema(responses=inline_serializer("Service", {"id": serializers.IntegerField(), "name": serializers.CharField()}, many=True))
    def get(self, request):
        services_ = selectors.services_active()
        return Response({
            "results": [
                {"id": s.pk, "name": s.name, "slug": s.slug, "description": s.description,
                 "owner_team": s.owner_team_id, "confidential": s.confidential}
                for s in services_
            ],
            "next": None,
        })


class SuggestionsApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("q", str),
            OpenApiParameter("mine", bool, description="The caller's own similar open tickets instead of colleagues' incidents."),
        ],
        responses=TicketOutput(many=True),
    )
    def get(self, request):
        text = request.query_params.get("q", "")
        if request.query_params.get("mine") == "true":
            found = selectors.own_similar(user=request.user, text=text)
        else:
            found = selectors.suggestions(user=request.user, text=text)
        return Response({"results": [ticket_json(t) for t in found], "next": None})
