"""API routes of gamification, included under /api/v1/."""
from django.urls import path

from . import api

urlpatterns = [
    path("leaderboards/", api.LeaderboardApi.as_view(), name="leaderboards"),
    path("users/<str:username>/achievements/", api.AchievementsApi.as_view(), name="user-achievements"),
    path("points/", api.PointsApi.as_view(), name="points"),
    path("campaigns/", api.CampaignListApi.as_view(), name="campaigns"),
    path("campaigns/<int:campaign_id>/", api.CampaignDetailApi.as_view(), name="campaign-detail"),
    path("rules/", api.RuleListApi.as_view(), name="rules"),
    path("rules/<slug:slug>/", api.RuleDetailApi.as_view(), name="rule-detail"),
    path("tickets/<int:ticket_id>/desk-visits/", api.DeskVisitApi.as_view(), name="ticket-desk-visits"),
    path("tickets/<int:ticket_id>/bounty/", api.BountyApi.as_view(), name="ticket-bounty"),
]
