"""API routes of the policies domain, included under /api/v1/ by servicedesk/urls.py."""
from django.urls import path

from . import api

urlpatterns = [
    path("channels/", api.ChannelListApi.as_view(), name="channels"),
    path("channels/<int:channel_id>/", api.ChannelDetailApi.as_view(), name="channel-detail"),
    path("policies/", api.PolicyListApi.as_view(), name="policies"),
    path("policies/<int:policy_id>/", api.PolicyDetailApi.as_view(), name="policy-detail"),
    path("outbound/", api.OutboundListApi.as_view(), name="outbound"),
    path("outbound/preview/", api.OutboundPreviewApi.as_view(), name="outbound-preview"),
    path("outbound/<int:post_id>/", api.OutboundDetailApi.as_view(), name="outbound-detail"),
    path("outbound/<int:post_id>/approve/", api.OutboundApproveApi.as_view(), name="outbound-approve"),
    path("outbound/<int:post_id>/reject/", api.OutboundRejectApi.as_view(), name="outbound-reject"),
    path("outbound/<int:post_id>/resolve/", api.OutboundResolveApi.as_view(), name="outbound-resolve"),
    path("listening/sources/<int:source_id>/webhook/", api.ListeningWebhookApi.as_view(), name="listening-webhook"),
]
