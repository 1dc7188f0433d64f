"""Inbound channels: mailboxes the desk reads, chat connections it listens to, and what came in."""
from __future__ import annotations

from django.conf import settings
from django.db import models

from accounts.models import Team


class Mailbox(models.Model):
    class Kind(models.TextChoices):
        IMAP = "imap", "IMAP mailbox (polled)"
        RECEIVER = "receiver", "Delivered to the desk's SMTP/LMTP receiver"

    class UnknownSenders(models.TextChoices):
        CREATE = "create", "Create an end-user account"
        REFUSE = "refuse", "Answer with a polite refusal"

    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    address = models.EmailField(unique=True, help_text="The address people write to.")
    host = models.CharField(max_length=200, blank=True)
    port = models.PositiveIntegerField(default=993)
    use_tls = models.BooleanField(default=True)
    username = models.CharField(max_length=200, blank=True)
    # Never shown again after it is set, never logged.
    secret = models.CharField(max_length=500, blank=True)
    folder = models.CharField(max_length=200, default="INBOX")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    service = models.ForeignKey("tickets.Service", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    unknown_senders = models.CharField(max_length=16, choices=UnknownSenders.choices, default=UnknownSenders.REFUSE)
    active = models.BooleanField(default=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class InboundMessage(models.Model):
    """One message that came in, whatever became of it. `message_id` is unique: a message is
    imported once however often it is read."""

    class Outcome(models.TextChoices):
        TICKET = "ticket", "Opened a ticket"
        COMMENT = "comment", "Added a comment"
        IGNORED = "ignored", "Ignored"
        REFUSED = "refused", "Refused"
        FAILED = "failed", "Could not import"

    mailbox = models.ForeignKey(Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages")
    message_id = models.CharField(max_length=255, unique=True)
    sender = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    size = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    reason = models.CharField(max_length=500, blank=True)
    ticket = models.ForeignKey("tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    comment = models.ForeignKey("tickets.Comment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["sender", "-received_at"]),
            models.Index(fields=["outcome", "-id"]),
        ]


class ChatConnection(models.Model):
    class Kind(models.TextChoices):
        SLACK = "slack", "Slack (slash command and Events API)"
        TEAMS = "teams", "Microsoft Teams (outgoing webhook)"

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Slack signing secret or Teams security token (base64); never shown again, never logged.
    secret = models.CharField(max_length=500)
    # Who is who: the chat tool's user id (or e-mail) -> username here.
    people = models.JSONField(default=dict, blank=True)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The outbound channel (policies) updates on tickets logged here go back through.
    outbound_channel = models.CharField(max_length=120, blank=True, help_text="Slug of an outbound channel.")
    active = models.BooleanField(default=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ChatRequest(models.Model):
    """A signed chat request already served: the same one again is a replay."""

    connection = models.ForeignKey(ChatConnection, on_delete=models.CASCADE, related_name="requests")
    fingerprint = models.CharField(max_length=64)
    ticket = models.ForeignKey("tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    thread = models.CharField(max_length=255, blank=True, help_text="Where updates go back (channel/thread).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "fingerprint"], name="chat_request_once")]
