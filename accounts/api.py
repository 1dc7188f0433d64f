import math

from django.contrib.auth import authenticate
from django.db import transaction
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from servicedesk.api import error_body
from servicedesk.errors import ApplicationError
from servicedesk.schema import TimeZoneField

from . import guard, selectors, services
from .models import ApiToken, LoginRecord


class TokenObtainInput(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=1024, trim_whitespace=False)


TokenOutput = inline_serializer(
    "Token", {"token": serializers.CharField(), "expires_at": serializers.DateTimeField()}
)


def _token_body(token: ApiToken, key: str) -> dict:
    return {"token": key, "expires_at": token.expires_at}


class TokenObtainApi(APIView):
    """Exchange a username and password for a new API token (shown once; it expires after
    `API_TOKEN_TTL_HOURS`). Throttled per client address, and guarded like the sign-in page."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth_token"

    @extend_schema(request=TokenObtainInput, responses=TokenOutput)
    def post(self, request):
        data = TokenObtainInput(data=request.data)
        data.is_valid(raise_exception=True)
        username, password = data.validated_data["username"], data.validated_data["password"]
        django_request = request._request
        with transaction.atomic():
            guard.attempt_serialize(request=django_request, username=username)
            verdict = guard.signin_verdict(request=django_request, username=username)
            if not verdict.allowed:
                return _locked(verdict.retry_after)
            name = guard.normalized_username(username)
            user = authenticate(django_request, username=name, password=password)
            ok = user is not None and user.is_active
            services.login_attempt_record(
                request=django_request, username=name, success=ok, method=LoginRecord.Method.TOKEN, device=verdict.device
            )
            after = None if ok else guard.signin_verdict(request=django_request, username=username)
        if after is not None:
            if not after.allowed:
                return _locked(after.retry_after)
            raise ApplicationError(
                "Unable to sign in with these credentials.",
                errors={"non_field_errors": ["Unable to sign in with these credentials."]},
            )
        token, key = services.api_token_create(user=user)
        response = Response(_token_body(token, key))
        guard.device_remember(django_request, response, user)
        return response


def _locked(retry_after: int) -> Response:
    minutes = max(1, math.ceil(retry_after / 60))
    body = error_body(f"Too many failed sign-in attempts. Try again in {minutes} minutes.")
    return Response(body, status=429, headers={"Retry-After": str(retry_after)})


class TokenRotateApi(APIView):
    """Swap the token in the Authorization header for a fresh one; the old one stops working."""

    @extend_schema(request=None, responses=TokenOutput)
    def post(self, request):
        if not isinstance(request.auth, ApiToken):
            raise ApplicationError("Send the token to rotate in the Authorization header.")
        token, key = services.api_token_rotate(actor=request.user, token=request.auth)
        return Response(_token_body(token, key))


class TokenRevokeApi(APIView):
    """Revoke the token in the Authorization header (sign out an API client)."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        if not isinstance(request.auth, ApiToken):
            raise ApplicationError("Send the token to revoke in the Authorization header.")
        services.api_token_revoke(actor=request.user, token=request.auth)
        return Response(status=204)


class ProfileInput(serializers.Serializer):
    display_name = serializers.CharField(max_length=150, required=False)
    title = serializers.CharField(max_length=150, required=False, allow_blank=True)
    location = serializers.CharField(max_length=150, required=False, allow_blank=True)
    expertise_tags = serializers.ListField(child=serializers.CharField(max_length=40), max_length=15, required=False)
    time_zone = TimeZoneField(required=False, help_text="An IANA zone such as Europe/Paris.")


MeOutput = inline_serializer("Me", {"username": serializers.CharField()})


class MeApi(APIView):
    @extend_schema(responses=MeOutput)
    def get(self, request):
        return Response(selectors.user_profile(viewer=request.user, user=request.user))

    @extend_schema(request=ProfileInput, responses=MeOutput)
    def patch(self, request):
        data = ProfileInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.profile_update(actor=request.user, user=request.user, fields=dict(data.validated_data))
        return Response(selectors.user_profile(viewer=user, user=user))


class MyAvatarApi(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": {
            "type": "object", "required": ["avatar"],
            "properties": {"avatar": {"type": "string", "format": "binary", "minLength": 1,
                                      "description": "A JPEG, PNG, GIF or WebP image up to 5 MB, judged by content."}},
        }},
        responses=MeOutput,
    )
    def put(self, request):
        upload = request.FILES.get("avatar")
        if upload is None:
            raise ApplicationError("Attach a photo.", errors={"avatar": ["No file was submitted."]})
        user = services.profile_update(actor=request.user, user=request.user, fields={}, avatar=upload)
        return Response(selectors.user_profile(viewer=user, user=user))

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        services.profile_update(actor=request.user, user=request.user, fields={}, avatar_remove=True)
        return Response(status=204)


class LoginOutput(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    ip = serializers.CharField(allow_null=True)
    user_agent = serializers.CharField()
    success = serializers.BooleanField()
    method = serializers.CharField()
    reported = serializers.BooleanField()
    device_name = serializers.CharField(help_text='Browser and system, e.g. "Firefox 121 on Ubuntu"; empty if unknown.')
    new_device = serializers.BooleanField(help_text="A successful sign-in from a browser not remembered for this account.")


class MyLoginsApi(ListAPIView):
    serializer_class = LoginOutput

    def get_queryset(self):
        return selectors.login_history(self.request.user)

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        return selectors.logins_described(page if page is not None else list(queryset))


class UserDetailApi(APIView):
    @extend_schema(responses=inline_serializer("Profile", {"username": serializers.CharField()}))
    def get(self, request, username: str):
        user = selectors.user_visible(viewer=request.user, username=username)
        return Response(selectors.user_profile(viewer=request.user, user=user))
