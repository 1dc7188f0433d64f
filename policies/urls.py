from django.urls import path

from . import syndication, views

app_name = "policies"

urlpatterns = [
    path("communications/", views.home, name="home"),
    path("communications/channels/", views.channels, name="channels"),
    path("communications/channels/<int:pk>/", views.channel_edit, name="channel_edit"),
    path("communications/policies/", views.policies_page, name="policies"),
    path("communications/policies/<int:pk>/", views.policy_edit, name="policy_edit"),
    path("communications/preview/", views.preview, name="preview"),
    path("communications/outbound/", views.outbound, name="outbound"),
    path("communications/outbound/<int:pk>/", views.post_detail, name="post"),
    path("communications/outbound/<int:pk>/<str:action>/", views.post_review, name="post_review"),
    path("communications/review/", views.review, name="review"),
    path("communications/audit/", views.audit, name="audit"),
    path("communications/listening/", views.listening, name="listening"),
    path("communications/listening/<int:pk>/ticket/", views.listening_to_ticket, name="listening_ticket"),
    path("communications/flags/", views.flags, name="flags"),
    path("communications/flags/<int:pk>/dismiss/", views.flag_dismiss, name="flag_dismiss"),
    path("account/external-channel/", views.external_channel, name="external_channel"),
    path("status/<slug:slug>/rss/", syndication.StatusRss(), name="status_rss"),
    path("status/<slug:slug>/atom/", syndication.StatusAtom(), name="status_atom"),
]
