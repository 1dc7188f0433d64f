"""Outbound channels, communication policies, outbound posts with their delivery attempts, the
audit trail, inbound listening and internal data-loss-prevention flags.

Nothing here is ever deleted: posts, attempts, audit rows and flags are the record of what left
the building (or almost did) and why.
"""
from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Audience(models.TextChoices):
    PUBLIC = "public", "Public: the whole world"
    PRIVATE_GROUP = "private_group", "Private group: named people outside the desk"
    INTERNAL = "internal", "Internal: staff only"


class EventKind(models.TextChoices):
    MANUAL_POST = "manual_post", "A post written by a person"
    MAJOR_INCIDENT_OPENED = "major_incident_opened", "A major public incident was opened"
    TICKET_RESOLVED = "ticket_resolved", "A public incident was resolved"
    TICKET_CLOSED = "ticket_closed", "A requester's ticket was closed"
    TICKET_UPDATED = "ticket_updated", "A reply or status change on a ticket logged from chat"
    MAINTENANCE_NOTICE = "maintenance_notice", "Planned maintenance"


class Channel(models.Model):
    class Kind(models.TextChoices):
        WEBHOOK = "webhook", "Webhook (JSON)"
        SLACK = "slack", "Slack incoming webhook"
        TEAMS = "teams", "Microsoft Teams incoming webhook"
        EMAIL = "email", "E-mail list"
        RSS = "rss", "Public status feed (RSS/Atom)"
        MASTODON = "mastodon", "Mastodon"
        X = "x", "X"

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    audience = models.CharField(max_length=16, choices=Audience.choices)
    # Secrets (webhook URLs, tokens) live here too; the API never returns them, pages mask them.
    config = models.JSONField(default=dict, blank=True)
    announces_incidents = models.BooleanField(
        default=False, help_text="Public incidents opened and resolved are announced here (the status channel)."
    )
    offered_to_requesters = models.BooleanField(
        default=False, help_text="People may choose this channel to hear that their ticket was closed."
    )
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Policy(models.Model):
    name = models.CharField(max_length=120)
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="policies")
    allowed_events = models.JSONField(default=list, blank=True)
    blocked_terms = models.JSONField(default=list, blank=True)
    blocked_patterns = models.JSONField(default=list, blank=True)
    block_personal_data = models.BooleanField(default=True)
    confidential_services = models.ManyToManyField("tickets.Service", blank=True, related_name="+")
    template = models.TextField(blank=True)
    requires_approval = models.BooleanField(default=False)
    rate_limit_per_hour = models.PositiveIntegerField(default=0, help_text="0 means no limit.")
    quiet_hours_start = models.TimeField(null=True, blank=True)
    quiet_hours_end = models.TimeField(null=True, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["channel_id", "id"]
        verbose_name_plural = "policies"

    def __str__(self) -> str:
        return self.name


class OutboundStatus(models.TextChoices):
    BLOCKED = "blocked", "Blocked"
    PENDING_REVIEW = "pending_review", "Waiting for review"
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    AMBIGUOUS = "ambiguous", "Ambiguous (may have been sent)"


class OutboundPost(models.Model):
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="posts")
    event = models.CharField(max_length=32, choices=EventKind.choices, default=EventKind.MANUAL_POST)
    body = models.TextField()
    text = models.TextField(blank=True, help_text="What goes out, after the policies' templates.")
    ticket = models.ForeignKey("tickets.Ticket", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    recipient = models.CharField(max_length=254, blank=True, help_text="A person's address for personal messages.")
    status = models.CharField(max_length=16, choices=OutboundStatus.choices)
    reasons = models.JSONField(default=list, blank=True)
    hold_kinds = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)
    approved = models.BooleanField(default=False)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Sent to targets that de-duplicate (Mastodon's Idempotency-Key, webhook header).
    delivery_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # An event announced once per channel, however often the code path runs.
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbound_due_idx"),
            models.Index(fields=["channel", "decided_at"], name="outbound_rate_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} to {self.channel_id} ({self.status})"


class DeliveryAttempt(models.Model):
    class Outcome(models.TextChoices):
        IN_FLIGHT = "in_flight", "In flight"
        SENT = "sent", "Sent"
        AMBIGUOUS = "ambiguous", "Timed out: may have arrived"
        ERROR = "error", "Error"

    post = models.ForeignKey(OutboundPost, on_delete=models.PROTECT, related_name="delivery_attempts")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.IN_FLIGHT)
    http_status = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["post", "number"], name="delivery_attempt_once")]


class AuditEntry(models.Model):
    """Append-only record of every decision, review, delivery attempt and configuration change."""

    class Action(models.TextChoices):
        DECIDED = "decided", "Decided"
        RECHECKED = "rechecked", "Re-checked before sending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        ATTEMPT = "attempt", "Delivery attempt started"
        DELIVERED = "delivered", "Delivered"
        AMBIGUOUS = "ambiguous", "Delivery ambiguous"
        RETRY = "retry", "Delivery failed, will retry"
        FAILED = "failed", "Delivery failed"
        RESOLVED = "resolved", "Ambiguous delivery resolved"
        CHANNEL = "channel", "Channel created"
        POLICY = "policy", "Policy created"
        CHANNEL_CHANGED = "channel_changed", "Channel changed"
        POLICY_CHANGED = "policy_changed", "Policy changed"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=16, choices=Action.choices)
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    post = models.ForeignKey(OutboundPost, null=True, blank=True, on_delete=models.PROTECT, related_name="audit")
    status = models.CharField(max_length=16, blank=True)
    reasons = models.JSONField(default=list, blank=True)
    note = models.TextField(blank=True)
    text = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["channel", "-id"]), models.Index(fields=["status", "-id"])]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Audit entries are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit entries are never deleted.")


class ExternalChannelPreference(models.Model):
    """Where a person wants to hear that their ticket was closed, outside the product."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="external_channel_preference")
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)


# --- inbound listening --------------------------------------------------------------------------


class ListeningSource(models.Model):
    class Kind(models.TextChoices):
        FEED = "feed", "RSS/Atom feed"
        WEBHOOK = "webhook", "Signed webhook (mentions)"

    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    url = models.URLField(max_length=500, blank=True)
    secret = models.CharField(max_length=200, blank=True, help_text="HMAC-SHA256 key for signed webhooks.")
    active = models.BooleanField(default=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ListeningRule(models.Model):
    """Items mentioning any keyword go to the listening wall, labelled."""

    label = models.CharField(max_length=80)
    keywords = models.JSONField(default=list)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["label"]

    def __str__(self) -> str:
        return self.label


class ListeningItem(models.Model):
    source = models.ForeignKey(ListeningSource, on_delete=models.PROTECT, related_name="items")
    external_id = models.CharField(max_length=500)
    title = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    url = models.URLField(max_length=1000, blank=True)
    author = models.CharField(max_length=200, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    sentiment = models.FloatField(default=0.0, help_text="VADER compound score, -1 (negative) to 1 (positive).")
    labels = models.JSONField(default=list, blank=True)
    on_wall = models.BooleanField(default=False)
    ticket = models.ForeignKey("tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["source", "external_id"], name="listening_item_once")]
        indexes = [models.Index(fields=["on_wall", "-id"], name="listening_wall_idx")]


# --- internal data-loss prevention --------------------------------------------------------------


class DlpFlag(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DISMISSED = "dismissed", "Dismissed"

    kind = models.CharField(max_length=32)
    object_id = models.CharField(max_length=64)
    url = models.CharField(max_length=300, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    findings = models.JSONField(default=list)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "-id"], name="dlp_open_idx")]
