"""Channels, policies, outbound posts (preview, create, review, resolve) and the signed inbound
webhook for listening. Request shapes here; rules in `policies.services`."""
from __future__ import annotations

import re

from django.core.validators import ProhibitNullCharactersValidator
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from servicedesk.api import Pagination
from servicedesk.errors import Forbidden, NotVisible
from servicedesk.schema import TimeZoneField, page_parameters
from tickets.models import Service
from tickets.selectors import ticket_get

from . import selectors, senders, services
from .models import Audience, Channel, EventKind, OutboundPost


def _require_admin(request) -> None:
    if not selectors.is_admin(request.user):
        raise Forbidden("Only admins manage channels and policies.")


# C0 control characters (and DEL): PostgreSQL cannot store NUL, and none of them means anything
# in a name, a channel reference, an event kind or a post. Tabs and line breaks stay where text
# may span lines.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
LINE_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
CONTROL_MESSAGE = "Control characters (such as NUL) are not allowed."


def no_control_characters(value):
    if isinstance(value, str) and CONTROL_CHARACTERS.search(value):
        raise serializers.ValidationError(CONTROL_MESSAGE)


def one_line(value):
    if isinstance(value, str) and LINE_CONTROL_CHARACTERS.search(value):
        raise serializers.ValidationError(CONTROL_MESSAGE)


class Text(serializers.CharField):
    """Text of several lines: no control characters but tabs and line breaks."""

    check = staticmethod(no_control_characters)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # One message for NUL and the other control characters, in place of DRF's own NUL check.
        self.validators = [v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)] + [self.check]


class Line(Text):
    """One line of text: no control characters at all."""

    check = staticmethod(one_line)


@extend_schema_field({"oneOf": [{"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
                            {"type": "string", "pattern": "^[^\\u0000]*[^\\u0000\\s][^\\u0000]*$"}]})
class ChannelField(serializers.Field):
    """A channel by id or slug."""

    default_error_messages = {"unknown": "Unknown channel.", "control": CONTROL_MESSAGE}

    def to_internal_value(self, value):
        qs = Channel.objects.all()
        channel = None
        if isinstance(value, str) and LINE_CONTROL_CHARACTERS.search(value):
            self.fail("control")  # NUL would reach PostgreSQL in the slug look-up
        if isinstance(value, int) and not isinstance(value, bool):
            channel = qs.filter(pk=value).first()
        elif isinstance(value, str) and value.strip():
            channel = qs.filter(pk=int(value)).first() if value.isdecimal() else qs.filter(slug=value.strip()).first()
        if channel is None:
            self.fail("unknown")
        return channel

    def to_representation(self, value):
        return value.pk


def channel_json(channel: Channel) -> dict:
    return {
        "id": channel.pk, "name": channel.name, "slug": channel.slug, "kind": channel.kind, "audience": channel.audience,
        "config": senders.public_config(channel.config),
        "secrets_set": sorted(k for k in channel.config if k in senders.SECRET_KEYS and channel.config[k]),
        "announces_incidents": channel.announces_incidents, "offered_to_requesters": channel.offered_to_requesters,
        "active": channel.active, "created_at": channel.created_at.isoformat(),
    }


def policy_json(policy) -> dict:
    return {
        "id": policy.pk, "name": policy.name, "channel": policy.channel_id, "allowed_events": policy.allowed_events,
        "blocked_terms": policy.blocked_terms, "blocked_patterns": policy.blocked_patterns,
        "block_personal_data": policy.block_personal_data, "template": policy.template,
        "requires_approval": policy.requires_approval, "rate_limit_per_hour": policy.rate_limit_per_hour,
        "confidential_services": [s.pk for s in policy.confidential_services.all()],
        "quiet_hours_start": policy.quiet_hours_start.isoformat(timespec="minutes") if policy.quiet_hours_start else None,
        "quiet_hours_end": policy.quiet_hours_end.isoformat(timespec="minutes") if policy.quiet_hours_end else None,
        "time_zone": policy.time_zone, "active": policy.active, "created_at": policy.created_at.isoformat(),
    }


def post_json(post: OutboundPost, *, attempts: bool = False) -> dict:
    data = {
        "id": post.pk, "status": post.status, "reasons": post.reasons, "channel": post.channel_id, "event": post.event,
        "body": post.body, "text": post.text, "ticket": post.ticket_id, "created_at": post.created_at.isoformat(),
        "created_by": post.created_by.username if post.created_by_id else None,
        "reviewed_by": post.reviewed_by.username if post.reviewed_by_id else None, "review_note": post.review_note,
        "sent_at": post.sent_at.isoformat() if post.sent_at else None, "self_approved": post.self_approved,
        "policies_applied": post.policies_applied, "policies_skipped": post.policies_skipped,
    }
    if attempts:
        data["attempts"] = [
            {"number": a.number, "started_at": a.started_at.isoformat(), "outcome": a.outcome,
             "finished_at": a.finished_at.isoformat() if a.finished_at else None, "http_status": a.http_status, "error": a.error}
            for a in post.delivery_attempts.all()
        ]
    return data


class ChannelInput(serializers.Serializer):
    name = Line(max_length=120)
    kind = serializers.ChoiceField(choices=Channel.Kind.choices)
    audience = serializers.ChoiceField(choices=Audience.choices)
    config = serializers.DictField(required=False, default=dict)
    announces_incidents = serializers.BooleanField(required=False, default=False)
    offered_to_requesters = serializers.BooleanField(required=False, default=False)


class ChannelListApi(APIView):
    forbidden_reads = {"get"}

    @extend_schema(parameters=page_parameters(), responses=inline_serializer("ChannelOut", {"id": serializers.IntegerField()}, many=True))
    def get(self, request):
        _require_admin(request)
        paginator = Pagination()
        page = paginator.paginate_queryset(Channel.objects.all(), request, view=self)
        return paginator.get_paginated_response([channel_json(c) for c in page])

    @extend_schema(request=ChannelInput, responses={201: inline_serializer("ChannelCreated", {"id": serializers.IntegerField()})})
    def post(self, request):
        _require_admin(request)
        data = ChannelInput(data=request.data)
        data.is_valid(raise_exception=True)
        channel = services.channel_create(actor=request.user, **data.validated_data)
        return Response(channel_json(channel), status=status.HTTP_201_CREATED)


class ChannelPatchInput(ChannelInput):
    """Every field optional. In `config`, a value replaces a setting, null or "" removes it and a
    setting left out is kept, so secrets never have to be sent back."""

    # The kind is fixed; it is accepted only so that sending a channel back unchanged works.
    kind = Line(required=False, max_length=16, help_text="Must be the channel's kind.")
    config = serializers.DictField(child=serializers.JSONField(allow_null=True), required=False)
    active = serializers.BooleanField(required=False)


def _channel_for_admin(request, channel_id: int) -> Channel:
    _require_admin(request)
    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None:
        raise NotVisible()
    return channel


class ChannelDetailApi(APIView):
    forbidden_reads = {"get"}
    partial_patch = True

    @extend_schema(responses=inline_serializer("ChannelDetail", {"id": serializers.IntegerField()}))
    def get(self, request, channel_id: int):
        return Response(channel_json(_channel_for_admin(request, channel_id)))

    @extend_schema(request=ChannelPatchInput, responses=inline_serializer("ChannelChanged", {"id": serializers.IntegerField()}))
    def patch(self, request, channel_id: int):
        channel = _channel_for_admin(request, channel_id)
        data = ChannelPatchInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        channel = services.channel_update(actor=request.user, channel=channel, **data.validated_data)
        return Response(channel_json(channel))


class StringList(serializers.ListField):
    child = Line(max_length=500, allow_blank=False)


class PolicyInput(serializers.Serializer):
    name = Line(max_length=120)
    channel = ChannelField()
    # Event kinds are checked by the service (one error text for the API and the pages).
    allowed_events = StringList(required=False, default=list, max_length=20, help_text=f"Any of {', '.join(EventKind.values)}.")
    blocked_terms = StringList(required=False, default=list, max_length=500)
    blocked_patterns = StringList(required=False, default=list, max_length=100)
    block_personal_data = serializers.BooleanField(required=False, default=True)
    template = Text(required=False, allow_blank=True, default="", max_length=2000)
    requires_approval = serializers.BooleanField(required=False, default=False)
    rate_limit_per_hour = serializers.IntegerField(required=False, default=0, min_value=0, max_value=10_000)
    confidential_services = serializers.PrimaryKeyRelatedField(queryset=Service.objects.all(), many=True, required=False, default=list)
    quiet_hours_start = serializers.TimeField(required=False, allow_null=True, default=None)
    quiet_hours_end = serializers.TimeField(required=False, allow_null=True, default=None)
    time_zone = TimeZoneField(required=False, default="UTC")


class PolicyListApi(APIView):
    forbidden_reads = {"get"}

    @extend_schema(parameters=page_parameters(), responses=inline_serializer("PolicyOut", {"id": serializers.IntegerField()}, many=True))
    def get(self, request):
        _require_admin(request)
        paginator = Pagination()
        page = paginator.paginate_queryset(selectors.policies(), request, view=self)
        return paginator.get_paginated_response([policy_json(p) for p in page])

    @extend_schema(request=PolicyInput, responses={201: inline_serializer("PolicyCreated", {"id": serializers.IntegerField()})})
    def post(self, request):
        _require_admin(request)
        data = PolicyInput(data=request.data)
        data.is_valid(raise_exception=True)
        policy = services.policy_create(actor=request.user, **data.validated_data)
        return Response(policy_json(policy), status=status.HTTP_201_CREATED)


class PolicyPatchInput(PolicyInput):
    """Every field optional (no defaults apply to a partial input); checked as on create."""

    active = serializers.BooleanField(required=False)


def _policy_for_admin(request, policy_id: int):
    _require_admin(request)
    policy = selectors.policies().filter(pk=policy_id).first()
    if policy is None:
        raise NotVisible()
    return policy


class PolicyDetailApi(APIView):
    forbidden_reads = {"get"}
    partial_patch = True

    @extend_schema(responses=inline_serializer("PolicyDetail", {"id": serializers.IntegerField()}))
    def get(self, request, policy_id: int):
        return Response(policy_json(_policy_for_admin(request, policy_id)))

    @extend_schema(request=PolicyPatchInput, responses=inline_serializer("PolicyChanged", {"id": serializers.IntegerField()}))
    def patch(self, request, policy_id: int):
        policy = _policy_for_admin(request, policy_id)
        data = PolicyPatchInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        policy = services.policy_update(actor=request.user, policy=policy, **data.validated_data)
        return Response(policy_json(selectors.policies().get(pk=policy.pk)))


class OutboundInput(serializers.Serializer):
    channel = ChannelField()
    body = Text(max_length=5000)
    ticket = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1)
    event = Line(required=False, default=EventKind.MANUAL_POST, max_length=32,
                                  help_text=f"One of {', '.join(EventKind.values)}.")


def _outbound_args(request) -> dict:
    if not request.user.is_agent:
        raise Forbidden("Only the service desk posts outside the product.")
    data = OutboundInput(data=request.data)
    data.is_valid(raise_exception=True)
    values = dict(data.validated_data)
    if values["ticket"] is not None:
        values["ticket"] = ticket_get(user=request.user, ticket_id=values["ticket"])
    return values


PostOut = inline_serializer(
    "OutboundPost",
    {"id": serializers.IntegerField(), "status": serializers.CharField(), "reasons": serializers.ListField(child=serializers.CharField()),
     "attempts": serializers.ListField(child=serializers.DictField(), required=False)},
)


DecisionOut = inline_serializer(
    "OutboundDecision",
    {"allowed": serializers.BooleanField(), "held": serializers.BooleanField(), "text": serializers.CharField(),
     "reasons": serializers.ListField(child=serializers.CharField()),
     "policies_applied": serializers.ListField(child=serializers.CharField()),
     "policies_skipped": serializers.ListField(child=serializers.CharField())},
)


class OutboundPreviewApi(APIView):
    @extend_schema(request=OutboundInput, responses=DecisionOut)
    def post(self, request):
        decision = services.outbound_preview(actor=request.user, **_outbound_args(request))
        return Response({"allowed": decision.allowed, "held": decision.held, "blocked": decision.blocked,
                         "text": decision.text, "reasons": decision.reasons, "policies_applied": decision.applied,
                         "policies_skipped": decision.skipped})


class OutboundListApi(APIView):
    @extend_schema(request=OutboundInput, responses={201: PostOut})
    def post(self, request):
        post = services.outbound_create(actor=request.user, **_outbound_args(request))
        return Response(post_json(post), status=status.HTTP_201_CREATED)


class OutboundDetailApi(APIView):
    @extend_schema(responses=PostOut)
    def get(self, request, post_id: int):
        return Response(post_json(selectors.post_visible(viewer=request.user, post_id=post_id), attempts=True))


class NoteInput(serializers.Serializer):
    note = Text(required=False, allow_blank=True, default="", max_length=2000)


class _ReviewApi(APIView):
    action = ""

    @extend_schema(request=NoteInput, responses=PostOut)
    def post(self, request, post_id: int):
        post = selectors.post_visible(viewer=request.user, post_id=post_id)
        data = NoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        handler = services.outbound_approve if self.action == "approve" else services.outbound_reject
        post = handler(actor=request.user, post=post, note=data.validated_data["note"])
        return Response(post_json(post))


class OutboundApproveApi(_ReviewApi):
    action = "approve"


class OutboundRejectApi(_ReviewApi):
    action = "reject"


class ResolveInput(NoteInput):
    outcome = serializers.ChoiceField(choices=[("sent", "It arrived"), ("retry", "It did not arrive: send again")])


class OutboundResolveApi(APIView):
    @extend_schema(request=ResolveInput, responses=PostOut)
    def post(self, request, post_id: int):
        post = selectors.post_visible(viewer=request.user, post_id=post_id)
        data = ResolveInput(data=request.data)
        data.is_valid(raise_exception=True)
        post = services.outbound_resolve(actor=request.user, post=post, **data.validated_data)
        return Response(post_json(post))


class ListeningWebhookApi(APIView):
    """Mentions pushed by a monitoring service, signed with HMAC-SHA256 over the raw body."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    # No account signs in here, but a missing or wrong signature answers 401.
    error_codes = {"401"}

    @extend_schema(request=None, responses={201: inline_serializer("Heard", {"stored": serializers.IntegerField()})})
    def post(self, request, source_id: int):
        # The raw bytes, exactly as signed: nothing is parsed before the signature is checked.
        items = services.listening_webhook_receive(
            source_id=source_id, raw_body=request.body, signature=request.headers.get("X-Signature-256", ""),
        )
        return Response({"stored": len(items), "ids": [i.pk for i in items]}, status=status.HTTP_201_CREATED)
