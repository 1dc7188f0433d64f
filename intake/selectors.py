"""Reads for the inbound channels page: a fixed number of queries whatever the lists hold."""
from __future__ import annotations

from .models import ChatConnection, InboundMessage, Mailbox

RECENT = 50


def mailboxes():
    return list(Mailbox.objects.select_related("team", "service").order_by("name"))


def chat_connections():
    return list(ChatConnection.objects.select_related("team").order_by("name"))


def not_imported(limit: int = RECENT):
    """The "could not import" list: malformed messages, newest first."""
    return list(
        InboundMessage.objects.filter(outcome=InboundMessage.Outcome.FAILED).select_related("mailbox").order_by("-id")[:limit]
    )


def recent_messages(limit: int = RECENT):
    return list(InboundMessage.objects.select_related("mailbox", "ticket").order_by("-id")[:limit])
