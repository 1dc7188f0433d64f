from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from servicedesk.api import Pagination
from servicedesk.schema import ID, NOT_BLANK, KeyField, TimeZoneField, page_parameters
from servicedesk.errors import ApplicationError

from . import preference_extras, selectors, services, walls
from .models import Follow, Post, PostComment
from .presenters import activity_payload, notification_payload


class NotificationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    text = serializers.CharField()
    url = serializers.CharField()
    read = serializers.BooleanField()
    count = serializers.IntegerField(help_text="How many repeats from the same person this one notification stands for.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField(help_text="When the latest repeat arrived.")

    def to_representation(self, instance):
        return notification_payload(instance)


class NotificationListApi(ListAPIView):
    serializer_class = NotificationOutput

    def get_queryset(self):
        return selectors.notifications_for(self.request.user)


class NotificationsReadInput(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, max_length=1000)
    all = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs):
        if not attrs.get("all") and not attrs.get("ids"):
            raise serializers.ValidationError("Give either 'ids' or 'all': true.")
        return attrs


class NotificationsReadApi(APIView):
    @extend_schema(request=NotificationsReadInput, responses=inline_serializer("NotificationsRead", {"updated": serializers.IntegerField()}))
    def post(self, request):
        data = NotificationsReadInput(data=request.data)
        data.is_valid(raise_exception=True)
        updated = services.notifications_mark_read(
            actor=request.user, ids=data.validated_data.get("ids"), all_=data.validated_data["all"]
        )
        return Response({"updated": updated}, status=status.HTTP_200_OK)


class LiveTicketApi(APIView):
    @extend_schema(request=None, responses=inline_serializer("LiveTicket", {"ticket": serializers.CharField()}))
    def post(self, request):
        return Response({"ticket": services.live_ticket_issue(user=request.user)})


# --- feed, follows, walls, posts ---------------------------------------------------------------


FEED_CONTEXTS = services.FEED_CONTEXTS


def _cursor(raw) -> int | None:
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ApplicationError("Invalid cursor.", errors={"before": ["Give the id of the last item you have."]}) from None
    if value < 1:
        raise ApplicationError("Invalid cursor.", errors={"before": ["Give the id of the last item you have."]})
    return value


def _next_url(request, next_before: int | None) -> str | None:
    if next_before is None:
        return None
    params = request.query_params.copy()
    params["before"] = str(next_before)
    return request.build_absolute_uri(f"{request.path}?{params.urlencode()}")


class FeedApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("context", str, enum=list(FEED_CONTEXTS)), OpenApiParameter("about", str),
                    OpenApiParameter("before", ID)],
        responses=inline_serializer("Feed", {"results": serializers.ListField(), "next": serializers.CharField(allow_null=True)}),
    )
    def get(self, request):
        context, about = services.feed_filter_check(
            actor=request.user, context=request.query_params.get("context") or "all",
            about=request.query_params.get("about") or "",
        )
        page, next_before = selectors.feed_payloads(
            user=request.user, context=context, about=about, before=_cursor(request.query_params.get("before"))
        )
        return Response({"results": page, "next": _next_url(request, next_before)})


class FollowInput(serializers.Serializer):
    type = serializers.ChoiceField(choices=Follow.Type.choices)
    key = KeyField()


def follow_payload(follow: Follow) -> dict:
    return {"id": follow.pk, "type": follow.target_type, "key": follow.target_key, "created_at": follow.created_at.isoformat()}


class FollowListApi(APIView):
    @extend_schema(parameters=page_parameters(), responses=inline_serializer("FollowList", {"results": serializers.ListField()}))
    def get(self, request):
        paginator = Pagination()
        page = paginator.paginate_queryset(selectors.follows_of(request.user), request, view=self)
        return paginator.get_paginated_response([follow_payload(f) for f in page])

    @extend_schema(request=FollowInput, responses={201: inline_serializer("Follow", {"id": serializers.IntegerField()})})
    def post(self, request):
        data = FollowInput(data=request.data)
        data.is_valid(raise_exception=True)
        follow, created = services.follow_create(actor=request.user, target_type=data.validated_data["type"], key=data.validated_data["key"])
        return Response(follow_payload(follow), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class FollowDeleteApi(APIView):
    @extend_schema(request=None, responses={204: None})
    def delete(self, request, follow_id: int):
        services.follow_delete(actor=request.user, follow_id=follow_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WallApi(APIView):
    @extend_schema(parameters=[OpenApiParameter("wall_type", str, OpenApiParameter.PATH, enum=walls.types()),
                               OpenApiParameter("key", str, OpenApiParameter.PATH, pattern=NOT_BLANK),
                               OpenApiParameter("before", ID)],
                   responses=inline_serializer("Wall", {"results": serializers.ListField()}))
    def get(self, request, wall_type: str, key: str):
        wall = walls.resolve(request.user, wall_type, key)
        before = _cursor(request.query_params.get("before"))
        page = selectors.stream_activities(viewer=request.user, stream=wall.stream, before=before, limit=selectors.FEED_PAGE + 1)
        more = len(page) > selectors.FEED_PAGE
        page = page[: selectors.FEED_PAGE]
        return Response({
            "wall": {"type": wall.type, "key": wall.key, "title": wall.title,
                     "followers": Follow.objects.filter(target_type=wall.type, target_key=wall.key).count()},
            "results": [activity_payload(a) for a in page],
            "next": _next_url(request, page[-1].pk if more else None),
        })


class MentionQuery(serializers.Serializer):
    q = serializers.RegexField(r"^[\w.+\- ]{1,40}$", help_text="What follows the @ so far.")
    place = serializers.RegexField(r"^[a-z]+:\S{1,150}$", help_text="The wall written on, as type:key (ticket:42, community:vpn).")


class MentionSuggestionsApi(APIView):
    """@mention autocomplete: only people who may see the place (the others would not be told)."""

    @extend_schema(parameters=[MentionQuery],
                   responses=inline_serializer("MentionSuggestions", {"results": serializers.ListField(), "next": serializers.CharField(allow_null=True)}))
    def get(self, request):
        query = MentionQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        people = selectors.mention_candidates(viewer=request.user, text=query.validated_data["q"].strip(),
                                              place=query.validated_data["place"])
        return Response({
            "results": [{"username": p.username, "display_name": p.display_name or p.username} for p in people],
            "next": None,
        })


class WallRefInput(serializers.Serializer):
    type = serializers.ChoiceField(choices=walls.types())
    key = KeyField()


class PostInput(serializers.Serializer):
    body = serializers.CharField(max_length=10_000)
    wall = WallRefInput()


class PostEditInput(serializers.Serializer):
    body = serializers.CharField(max_length=10_000)


def post_payload(post: Post) -> dict:
    return {
        "id": post.pk,
        "author": {"username": post.author.username},
        "body": post.body,
        "body_html": post.body_html,
        "wall": {"type": post.wall_type, "key": post.wall_key},
        "tags": post.tags,
        "like_count": post.like_count,
        "comment_count": post.comment_count,
        "created_at": post.created_at.isoformat(),
        "edited_at": post.edited_at.isoformat() if post.edited_at else None,
    }


class PostCreateApi(APIView):
    @extend_schema(request=PostInput, responses={201: inline_serializer("Post", {"id": serializers.IntegerField()})})
    def post(self, request):
        data = PostInput(data=request.data)
        data.is_valid(raise_exception=True)
        wall = data.validated_data["wall"]
        post = services.post_create(actor=request.user, wall_type=wall["type"], wall_key=wall["key"], body=data.validated_data["body"])
        return Response(post_payload(post), status=status.HTTP_201_CREATED)


class PostDetailApi(APIView):
    @extend_schema(responses=inline_serializer("PostDetail", {"id": serializers.IntegerField()}))
    def get(self, request, post_id: int):
        return Response(post_payload(selectors.post_visible(viewer=request.user, post_id=post_id)))

    @extend_schema(request=PostEditInput, responses=inline_serializer("PostEdited", {"id": serializers.IntegerField()}))
    def patch(self, request, post_id: int):
        data = PostEditInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(post_payload(services.post_edit(actor=request.user, post_id=post_id, body=data.validated_data["body"])))

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, post_id: int):
        services.post_delete(actor=request.user, post_id=post_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PostLikeApi(APIView):
    @extend_schema(request=None, responses=inline_serializer("Liked", {"like_count": serializers.IntegerField()}))
    def post(self, request, post_id: int):
        post = services.like_add(actor=request.user, post_id=post_id)
        return Response({"liked": True, "like_count": post.like_count})

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, post_id: int):
        services.like_remove(actor=request.user, post_id=post_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PostCommentsApi(APIView):
    @extend_schema(responses=inline_serializer("PostComments", {"results": serializers.ListField()}))
    def get(self, request, post_id: int):
        post = selectors.post_visible(viewer=request.user, post_id=post_id)
        comments = PostComment.objects.filter(post=post, deleted_at__isnull=True).select_related("author").order_by("id")[:500]
        return Response({"results": [
            {"id": c.pk, "author": {"username": c.author.username}, "body": c.body, "body_html": c.body_html,
             "created_at": c.created_at.isoformat()} for c in comments
        ], "next": None})

    @extend_schema(request=PostEditInput, responses={201: inline_serializer("PostComment", {"id": serializers.IntegerField()})})
    def post(self, request, post_id: int):
        data = PostEditInput(data=request.data)
        data.is_valid(raise_exception=True)
        c = services.post_comment_add(actor=request.user, post_id=post_id, body=data.validated_data["body"])
        return Response({"id": c.pk, "author": {"username": c.author.username}, "body": c.body, "body_html": c.body_html,
                         "created_at": c.created_at.isoformat()}, status=status.HTTP_201_CREATED)


class MuteInput(serializers.Serializer):
    type = serializers.ChoiceField(choices=["ticket", "user", "tag"])
    key = KeyField()


class MuteApi(APIView):
    @extend_schema(request=MuteInput, responses={200: inline_serializer("Muted", {"muted": serializers.BooleanField()})})
    def post(self, request):
        data = MuteInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.mute_set(actor=request.user, target_type=data.validated_data["type"], key=data.validated_data["key"])
        return Response({"muted": True})

    @extend_schema(
        request=None, responses={204: None},
        parameters=[OpenApiParameter("type", str, enum=["ticket", "user", "tag"], required=True),
                    OpenApiParameter("key", str, required=True, pattern=NOT_BLANK)],
    )
    def delete(self, request):
        # What to unmute comes in the query string (a DELETE has no body in OpenAPI); a body still works.
        data = MuteInput(data=request.data or request.query_params)
        data.is_valid(raise_exception=True)
        services.mute_set(actor=request.user, target_type=data.validated_data["type"], key=data.validated_data["key"], muted=False)
        return Response(status=status.HTTP_204_NO_CONTENT)


class KindChoiceInput(serializers.Serializer):
    in_app = serializers.BooleanField(required=False)
    email = serializers.BooleanField(required=False)


class PreferencesInput(serializers.Serializer):
    kinds = serializers.DictField(child=KindChoiceInput(), required=False)
    email_digest = serializers.BooleanField(required=False)
    quiet_hours_start = serializers.TimeField(required=False, allow_null=True)
    quiet_hours_end = serializers.TimeField(required=False, allow_null=True)
    time_zone = TimeZoneField(required=False)
    external_channel = serializers.IntegerField(required=False, allow_null=True, min_value=1)


def preferences_payload(user) -> dict:
    from .models import NotificationPreference
    from .notification_kinds import KINDS

    chosen = {p.kind: p for p in NotificationPreference.objects.filter(user=user)}
    return {
        "kinds": [
            {"kind": kind, "label": info.label,
             "in_app": chosen[kind].in_app if kind in chosen else info.in_app,
             "email": chosen[kind].email if kind in chosen else info.email}
            for kind, info in KINDS.items()
            if user.is_agent or not info.staff_only
        ],
        "email_digest": user.email_digest,
        "quiet_hours_start": user.quiet_hours_start.strftime("%H:%M") if user.quiet_hours_start else None,
        "quiet_hours_end": user.quiet_hours_end.strftime("%H:%M") if user.quiet_hours_end else None,
        "time_zone": user.time_zone,
        **preference_extras.payload(user),
    }


class NotificationPreferencesApi(APIView):
    @extend_schema(responses=inline_serializer("NotificationPreferences", {"kinds": serializers.ListField()}))
    def get(self, request):
        return Response(preferences_payload(request.user))

    @extend_schema(request=PreferencesInput, responses=inline_serializer("NotificationPreferencesSaved", {"kinds": serializers.ListField()}))
    def put(self, request):
        data = PreferencesInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        with transaction.atomic():
            preference_extras.save(actor=request.user, values=values)
            services.notification_preferences_set(
                actor=request.user,
                kinds=values.get("kinds"),
                email_digest=values.get("email_digest"),
                quiet_hours_start=values["quiet_hours_start"] if "quiet_hours_start" in values else ...,
                quiet_hours_end=values["quiet_hours_end"] if "quiet_hours_end" in values else ...,
                time_zone=values.get("time_zone"),
            )
        return Response(preferences_payload(request.user))


class FeedTokenInput(serializers.Serializer):
    label = serializers.CharField(required=False, allow_blank=True, default="", max_length=80)


class FeedTokenApi(APIView):
    @extend_schema(responses=inline_serializer("FeedTokens", {"results": serializers.ListField()}))
    def get(self, request):
        tokens = request.user.feed_tokens.filter(revoked_at__isnull=True).order_by("-id")
        return Response({"results": [{"id": t.pk, "label": t.label, "created_at": t.created_at.isoformat()} for t in tokens], "next": None})

    @extend_schema(request=FeedTokenInput, responses={201: inline_serializer("FeedTokenCreated", {"token": serializers.CharField()})})
    def post(self, request):
        data = FeedTokenInput(data=request.data)
        data.is_valid(raise_exception=True)
        token, key = services.feed_token_create(actor=request.user, label=data.validated_data["label"])
        base = request.build_absolute_uri("/")
        return Response({
            "id": token.pk, "token": key, "label": token.label,
            "rss": f"{base}rss/{key}/{{type}}/{{key}}/", "atom": f"{base}atom/{key}/{{type}}/{{key}}/",
        }, status=status.HTTP_201_CREATED)


class FeedTokenRevokeApi(APIView):
    @extend_schema(request=None, responses={204: None})
    def delete(self, request, token_id: int):
        services.feed_token_revoke(actor=request.user, token_id=token_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class FeedFilterInput(serializers.Serializer):
    name = serializers.CharField(max_length=60)
    context = serializers.ChoiceField(choices=list(FEED_CONTEXTS), required=False, default="all")
    about = serializers.CharField(max_length=170, required=False, allow_blank=True, default="")


def feed_filter_payload(f) -> dict:
    return {"id": f.pk, "name": f.name, "context": f.context, "about": f.about}


class FeedFiltersApi(APIView):
    @extend_schema(responses=inline_serializer("FeedFilters", {"results": serializers.ListField()}))
    def get(self, request):
        return Response({"results": [feed_filter_payload(f) for f in selectors.saved_feed_filters(request.user)], "next": None})

    @extend_schema(request=FeedFilterInput, responses={201: inline_serializer("FeedFilter", {"id": serializers.IntegerField()})})
    def post(self, request):
        data = FeedFilterInput(data=request.data)
        data.is_valid(raise_exception=True)
        saved = services.saved_feed_filter_save(actor=request.user, **data.validated_data)
        return Response(feed_filter_payload(saved), status=status.HTTP_201_CREATED)


class FeedFilterDeleteApi(APIView):
    @extend_schema(request=None, responses={204: None})
    def delete(self, request, filter_id: int):
        services.saved_feed_filter_delete(actor=request.user, filter_id=filter_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
