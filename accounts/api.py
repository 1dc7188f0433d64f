from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from servicedesk.errors import ApplicationError

from . import selectors, services
from .models import LoginRecord


class TokenObtainInput(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=1024, trim_whitespace=False)


class TokenObtainApi(APIView):
    """Exchange a username and password for an API token. Throttled, and subject to lockout."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth_token"

    @extend_schema(request=TokenObtainInput, responses=inline_serializer("Token", {"token": serializers.CharField()}))
    def post(self, request):
        data = TokenObtainInput(data=request.data)
        data.is_valid(raise_exception=True)
        username, password = data.validated_data["username"], data.validated_data["password"]
        # Authenticate against the Django request so the lockout sees (and marks) the attempt.
        django_request = request._request
        user = authenticate(django_request, username=username, password=password)
        services.login_attempt_record(
            request=django_request, username=username, success=user is not None, method=LoginRecord.Method.TOKEN
        )
        if getattr(django_request, "axes_locked_out", False):
            raise ApplicationError("Too many failed sign-in attempts. Try again later.", status=429)
        if user is None or not user.is_active:
            raise ApplicationError(
                "Unable to sign in with these credentials.",
                errors={"non_field_errors": ["Unable to sign in with these credentials."]},
            )
        return Response({"token": services.auth_token_for(user=user)})


class MeApi(APIView):
    @extend_schema(responses=inline_serializer("Me", {"username": serializers.CharField()}))
    def get(self, request):
        return Response(selectors.user_profile(viewer=request.user, user=request.user))


class LoginOutput(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    ip = serializers.CharField(allow_null=True)
    user_agent = serializers.CharField()
    success = serializers.BooleanField()
    method = serializers.CharField()
    reported = serializers.BooleanField()


class MyLoginsApi(ListAPIView):
    serializer_class = LoginOutput

    def get_queryset(self):
        return selectors.login_history(self.request.user)


class UserDetailApi(APIView):
    @extend_schema(responses=inline_serializer("Profile", {"username": serializers.CharField()}))
    def get(self, request, username: str):
        user = selectors.user_visible(viewer=request.user, username=username)
        return Response(selectors.user_profile(viewer=request.user, user=user))
