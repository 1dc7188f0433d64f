from django.urls import path

from . import views

app_name = "intake"

urlpatterns = [
    path("inbound/", views.channels_page, name="channels"),
    path("inbound/mailboxes/<int:pk>/", views.mailbox_edit, name="mailbox_edit"),
    path("inbound/chat/<int:pk>/", views.chat_connection_edit, name="chat_edit"),
    path("inbound/mailboxes/<int:pk>/active/", views.set_active, {"what": "mailboxes"}, name="mailbox_active"),
    path("inbound/chat/<int:pk>/active/", views.set_active, {"what": "chat"}, name="chat_active"),
    path("intake/slack/<slug:slug>/commands/", views.slack_command, name="slack_command"),
    path("intake/slack/<slug:slug>/events/", views.slack_events, name="slack_events"),
    path("intake/teams/<slug:slug>/", views.teams_webhook, name="teams"),
]
