"""Gamification endpoints: leaderboards, achievements, the points ledger, campaigns, rules,
desk visits and bounties."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import user_visible
from communities.models import Community
from servicedesk.schema import WHITESPACE
from tickets import selectors as ticket_selectors
from tickets.models import Service

from . import selectors, services
from .models import Campaign, Rule


SCOPE_PATTERN = (f"^[{WHITESPACE}]*(global|team:[0-9]{{1,18}}|community:[^\\u0000]*[^\\u0000{WHITESPACE}])?"
                 f"[{WHITESPACE}]*$")


class LeaderboardApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("period", str, enum=["week", "month", "all"]),
            OpenApiParameter("scope", str, description="global, team:<id> or community:<slug>", pattern=SCOPE_PATTERN),
        ],
        responses=inline_serializer("Leaderboard", {
            "results": serializers.ListField(child=serializers.DictField()), "me": serializers.DictField(),
        }),
    )
    def get(self, request):
        board = selectors.board(
            viewer=request.user, period=request.query_params.get("period", "week"),
            scope=request.query_params.get("scope", "global"),
        )
        return Response({
            "period": board.period, "scope": board.scope,
            "results": [{"rank": r["rank"], "user": r["user"], "points": r["points"]} for r in board.results],
            "me": board.me,
        })


class AchievementsApi(APIView):
    @extend_schema(responses=inline_serializer("Achievements", {
        "points": serializers.IntegerField(), "level": serializers.IntegerField(),
        "badges": serializers.ListField(child=serializers.DictField()),
    }))
    def get(self, request, username: str):
        user = user_visible(viewer=request.user, username=username)
        data = selectors.achievements(user)
        influence = selectors.influence_of(user)
        data["influence"] = {"score": influence.score, "explanation": influence.lines}
        return Response(data)


class PointEntryOutput(serializers.Serializer):
    """An entry whose source the viewer may not see (context "hidden": {entry id: label}) keeps
    its points, rule and date but names neither title nor reason nor link."""

    # Declared for the schema; the payload is built below.
    id = serializers.IntegerField()
    points = serializers.IntegerField()
    reason = serializers.CharField()
    rule = serializers.CharField()
    created_at = serializers.DateTimeField()
    source = serializers.DictField()
    campaign = serializers.CharField(allow_null=True)
    reversal_of = serializers.IntegerField(allow_null=True)

    def to_representation(self, e):
        label = self.context.get("hidden", {}).get(e.pk)
        if label is None:
            reason, title, url = e.reason, e.source_title, selectors.source_url(e)
        else:
            reason, title, url = f"{e.rule.name} ({label})", label, ""
        return {
            "id": e.pk,
            "points": e.points,
            "reason": reason,
            "rule": e.rule.slug,
            "created_at": e.created_at.isoformat(),
            "source": {"type": e.source_type, "id": e.source_id, "title": title, "url": url},
            "campaign": e.campaign.name if e.campaign_id else None,
            "reversal_of": e.reversal_of_id,
        }


class PointsApi(ListAPIView):
    serializer_class = PointEntryOutput

    @extend_schema(parameters=[OpenApiParameter("user", str, description="username; yourself when left out")])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.ledger_for(viewer=self.request.user, username=self.request.query_params.get("user"))

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        entries = page if page is not None else list(self.get_queryset())
        context = self.get_serializer_context() | {"hidden": selectors.hidden_sources(viewer=request.user, entries=entries)}
        data = PointEntryOutput(entries, many=True, context=context).data
        return self.get_paginated_response(data) if page is not None else Response(data)


def campaign_payload(c: Campaign) -> dict:
    return {
        "id": c.pk, "name": c.name, "description": c.description, "rule": c.rule.slug,
        "multiplier": float(c.multiplier), "starts_at": c.starts_at.isoformat(), "ends_at": c.ends_at.isoformat(),
        "tag": c.tag or None, "service": c.service_id, "community": c.community.slug if c.community_id else None,
        "goal": c.goal, "bonus_points": c.bonus_points, "created_by": {"username": c.created_by.username},
        "url": c.get_absolute_url(),
    }


class CampaignInput(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    rule = serializers.SlugRelatedField(slug_field="slug", queryset=Rule.objects.all())
    multiplier = serializers.DecimalField(max_digits=4, decimal_places=2, default=1)
    tag = serializers.CharField(required=False, allow_blank=True, default="", max_length=50)
    service = serializers.PrimaryKeyRelatedField(queryset=Service.objects.filter(active=True), required=False, allow_null=True)
    community = serializers.SlugRelatedField(slug_field="slug", queryset=Community.objects.all(), required=False, allow_null=True)
    goal = serializers.IntegerField(min_value=0, max_value=100000, default=0)
    bonus_points = serializers.IntegerField(min_value=0, max_value=10000, default=0)


class CampaignListApi(APIView):
    @extend_schema(operation_id="v1_campaigns_list", responses=inline_serializer("CampaignList", {"results": serializers.ListField(child=serializers.DictField())}))
    def get(self, request):
        campaigns = selectors.campaigns_visible(request.user)[:100]
        return Response({"results": [campaign_payload(c) for c in campaigns], "next": None})

    @extend_schema(request=CampaignInput, responses={201: inline_serializer("Campaign", {"id": serializers.IntegerField()})})
    def post(self, request):
        if not request.user.is_manager:
            # Said before validating, so people who may not run campaigns learn nothing more.
            return Response({"message": "Only managers and admins run campaigns."}, status=status.HTTP_403_FORBIDDEN)
        data = CampaignInput(data=request.data)
        data.is_valid(raise_exception=True)
        campaign = services.campaign_create(actor=request.user, **data.validated_data)
        return Response(campaign_payload(campaign), status=status.HTTP_201_CREATED)


class CampaignDetailApi(APIView):
    @extend_schema(responses=inline_serializer("CampaignDetail", {"id": serializers.IntegerField()}))
    def get(self, request, campaign_id: int):
        campaign = selectors.campaign_get(viewer=request.user, campaign_id=campaign_id)
        progress = selectors.campaign_progress(campaign, viewer=request.user)
        return Response({
            **campaign_payload(campaign),
            "progress": [{"user": {"username": p["user"].username}, "count": p["count"], "points": p["points"],
                          "done": p["done"], "percent": p["percent"]} for p in progress["participants"]],
            "mine": progress["mine"],
        })


def rule_payload(r: Rule) -> dict:
    return {"slug": r.slug, "name": r.name, "description": r.description, "points": r.points,
            "daily_cap": r.daily_cap, "active": r.active}


class RuleListApi(APIView):
    @extend_schema(operation_id="v1_rules_list", responses=inline_serializer("Rules", {"results": serializers.ListField(child=serializers.DictField())}))
    def get(self, request):
        return Response({"results": [rule_payload(r) for r in selectors.rules_all()], "next": None})


class RuleInput(serializers.Serializer):
    points = serializers.IntegerField(required=False, min_value=-1000, max_value=1000)
    daily_cap = serializers.IntegerField(required=False, min_value=0, max_value=100000)
    active = serializers.BooleanField(required=False)


class RuleDetailApi(APIView):
    @extend_schema(request=RuleInput, responses=inline_serializer("Rule", {"slug": serializers.CharField()}))
    def patch(self, request, slug: str):
        rule = Rule.objects.filter(slug=slug).first()
        if rule is None:
            return Response({"message": "Not found."}, status=status.HTTP_404_NOT_FOUND)
        if not request.user.is_manager:
            return Response({"message": "Only managers and admins edit rules."}, status=status.HTTP_403_FORBIDDEN)
        data = RuleInput(data=request.data)
        data.is_valid(raise_exception=True)
        rule = services.rule_update(actor=request.user, rule=rule, **data.validated_data)
        return Response(rule_payload(rule))


class DeskVisitInput(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class DeskVisitApi(APIView):
    @extend_schema(request=DeskVisitInput, responses={201: inline_serializer("DeskVisit", {"id": serializers.IntegerField()})})
    def post(self, request, ticket_id: int):
        ticket = ticket_selectors.ticket_get(user=request.user, ticket_id=ticket_id)
        data = DeskVisitInput(data=request.data)
        data.is_valid(raise_exception=True)
        visit = services.desk_visit_log(actor=request.user, ticket=ticket, note=data.validated_data["note"])
        return Response({"id": visit.pk, "ticket": ticket.pk, "agent": {"username": request.user.username},
                         "note": visit.note, "created_at": visit.created_at.isoformat()}, status=status.HTTP_201_CREATED)


class BountyInput(serializers.Serializer):
    points = serializers.IntegerField(min_value=1, max_value=10000)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


class BountyApi(APIView):
    @extend_schema(request=BountyInput, responses={201: inline_serializer("Bounty", {"points": serializers.IntegerField()})})
    def post(self, request, ticket_id: int):
        ticket = ticket_selectors.ticket_get(user=request.user, ticket_id=ticket_id)
        if not request.user.is_manager:
            return Response({"message": "Only managers and admins set bounties."}, status=status.HTTP_403_FORBIDDEN)
        data = BountyInput(data=request.data)
        data.is_valid(raise_exception=True)
        bounty = services.bounty_set(actor=request.user, ticket=ticket, **data.validated_data)
        return Response({"ticket": ticket.pk, "points": bounty.points, "note": bounty.note}, status=status.HTTP_201_CREATED)
