from django.urls import path

from . import views

app_name = "intake"

urlpatterns = [
    path("inbound/", views.channels_page, name="channels"),
    path("intake/slack/<slug:slug>/commands/", views.slack_command, name="slack_command"),
    path("intake/slack/<slug:slug>/events/", views.slack_events, name="slack_events"),
    path("intake/teams/<slug:slug>/", views.teams_webhook, name="teams"),
]
