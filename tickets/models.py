"""Tickets, the service catalogue, SLAs and everything said on a ticket."""
from __future__ import annotations

from datetime import time

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from accounts.models import Team


class Kind(models.TextChoices):
    INCIDENT = "incident", "Incident"
    REQUEST = "request", "Request"
    PROBLEM = "problem", "Problem"


KIND_PREFIX = {Kind.INCIDENT: "INC", Kind.REQUEST: "REQ", Kind.PROBLEM: "PRB"}
# A ticket number as people write it ("INC-000042"): groups are the prefix and the six digits.
NUMBER_PATTERN = "(" + "|".join(KIND_PREFIX.values()) + r")-(\d{6})"


class Status(models.TextChoices):
    NEW = "new", "New"
    IN_PROGRESS = "in_progress", "In progress"
    PENDING = "pending", "Pending"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


OPEN_STATUSES = (Status.NEW, Status.IN_PROGRESS, Status.PENDING)


class Visibility(models.TextChoices):
    PRIVATE = "private", "Private"
    PUBLIC = "public", "Public"


class Channel(models.TextChoices):
    """Where a ticket or a comment came in."""

    WEB = "web", "Web"
    EMAIL = "email", "E-mail"
    SLACK = "slack", "Slack"
    TEAMS = "teams", "Microsoft Teams"


class Priority(models.IntegerChoices):
    CRITICAL = 1, "1 · Critical"
    HIGH = 2, "2 · High"
    MEDIUM = 3, "3 · Medium"
    LOW = 4, "4 · Low"


class BusinessCalendar(models.Model):
    name = models.CharField(max_length=120, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    working_days = models.JSONField(default=list, help_text="0 = Monday … 6 = Sunday")
    day_start = models.TimeField(default=time(9, 0))
    day_end = models.TimeField(default=time(17, 0))

    def __str__(self) -> str:
        return self.name


class Holiday(models.Model):
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=120, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="holiday_once_per_day")]


class SLAPolicy(models.Model):
    """Response and resolution targets for one priority, counted in business minutes."""

    priority = models.PositiveSmallIntegerField(choices=Priority.choices, unique=True)
    response_minutes = models.PositiveIntegerField()
    resolution_minutes = models.PositiveIntegerField()
    calendar = models.ForeignKey(BusinessCalendar, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        ordering = ["priority"]

    def __str__(self) -> str:
        return f"P{self.priority}: respond {self.response_minutes} min, resolve {self.resolution_minutes} min"


class Service(models.Model):
    name = models.CharField(max_length=150, unique=True)
    slug = models.SlugField(max_length=150, unique=True)
    description = models.TextField(blank=True)
    owner_team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="services")
    confidential = models.BooleanField(default=False, help_text="Never named in outbound posts.")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Ticket(models.Model):
    kind = models.CharField(max_length=16, choices=Kind.choices)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    description_html = models.TextField(blank=True)
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="requested_tickets")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_tickets"
    )
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets")
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets")
    problem = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="incidents",
        limit_choices_to={"kind": Kind.PROBLEM},
    )
    impact = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(3)])
    urgency = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(3)])
    priority = models.PositiveSmallIntegerField(choices=Priority.choices)
    priority_overridden = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    visibility = models.CharField(max_length=16, choices=Visibility.choices, default=Visibility.PRIVATE)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    resolution_count = models.PositiveIntegerField(default=0)

    # SLA clock: dues are created_at + target + paused business minutes, on the policy's calendar.
    response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    sla_paused_at = models.DateTimeField(null=True, blank=True)
    sla_paused_minutes = models.FloatField(default=0)
    response_warned_at = models.DateTimeField(null=True, blank=True)
    resolution_warned_at = models.DateTimeField(null=True, blank=True)
    response_breached_at = models.DateTimeField(null=True, blank=True)
    resolution_breached_at = models.DateTimeField(null=True, blank=True)

    me_too_count = models.PositiveIntegerField(default=0)
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.WEB)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates",
        help_text="Set when this ticket was merged into another as its duplicate.",
    )
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        indexes = [
            models.Index(fields=["status", "priority", "-id"], name="ticket_queue_idx"),
            models.Index(fields=["team", "status", "-id"], name="ticket_team_queue_idx"),
            models.Index(fields=["assignee", "status", "-id"], name="ticket_assignee_idx"),
            models.Index(fields=["requester", "-id"], name="ticket_requester_idx"),
            models.Index(fields=["service", "status", "-id"], name="ticket_service_idx"),
            models.Index(fields=["visibility", "kind", "status", "-id"], name="ticket_public_idx"),
            models.Index(fields=["-id"], name="ticket_breached_idx",
                         condition=models.Q(resolution_breached_at__isnull=False) | models.Q(response_breached_at__isnull=False)),
            models.Index(fields=["resolution_due_at"], name="ticket_sla_open_idx",
                         condition=models.Q(status__in=["new", "in_progress", "pending"])),
            # The queue's "Unassigned in my team" and "Breached" views: their capped counts read
            # these alone (index-only), whatever the size of the closed history.
            models.Index(fields=["team", "-id"], name="ticket_unassigned_open_idx",
                         condition=models.Q(assignee__isnull=True, status__in=["new", "in_progress", "pending"])),
            models.Index(fields=["-id"], name="ticket_breached_open_idx",
                         condition=models.Q(status__in=["new", "in_progress", "pending"])
                         & (models.Q(resolution_breached_at__isnull=False) | models.Q(response_breached_at__isnull=False))),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def number(self) -> str:
        return ticket_number(self.kind, self.pk)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_public(self) -> bool:
        return self.visibility == Visibility.PUBLIC

    def get_absolute_url(self) -> str:
        return f"/tickets/{self.pk}/"

    @property
    def problem_number(self) -> str:
        """Only problems are linked, so the number needs no read of the problem."""
        return ticket_number(Kind.PROBLEM, self.problem_id) if self.problem_id else ""


def ticket_number(kind: str, pk: int | None) -> str:
    return f"{KIND_PREFIX.get(kind, 'TKT')}-{(pk or 0):06d}"


class Comment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    body_html = models.TextField()
    internal = models.BooleanField(default=False)
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.WEB)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["ticket", "id"])]


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"attachments/{instance.ticket_id}/{instance.token}"


class Attachment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    comment = models.ForeignKey(Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    token = models.CharField(max_length=40, unique=True)
    file = models.FileField(upload_to=attachment_path)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)


class MeToo(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="me_toos")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ticket", "user"], name="me_too_once")]


class Rating(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="ratings")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    score = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.TextField(blank=True)
    resolution_round = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ticket", "resolution_round"], name="rate_once_per_resolution")]


class TicketChange(models.Model):
    """The audit trail: one row per changed field, written with the change."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="changes")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    field = models.CharField(max_length=64)
    old = models.TextField(blank=True)
    new = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["ticket", "id"])]

    # Values are stored as written (e.g. "in_progress") so the trail never depends on labels.
    _LABELS = {
        "status": dict(Status.choices),
        "visibility": dict(Visibility.choices),
        "priority": {str(value): label for value, label in Priority.choices},
    }

    def _label(self, value: str) -> str:
        return self._LABELS.get(self.field, {}).get(value, value)

    @property
    def old_label(self) -> str:
        return self._label(self.old)

    @property
    def new_label(self) -> str:
        return self._label(self.new)


class SavedView(models.Model):
    """An agent's named queue filter (status, priority, team, service, assignee, breached, sort)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(max_length=80)
    query = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="saved_view_name_once")]
        ordering = ["name"]


class Deflection(models.Model):
    """The portal showed answers while someone described a problem; what did they do next?"""

    class Outcome(models.TextChoices):
        SHOWN = "shown", "Suggestions shown"
        OPENED = "opened", "Opened a suggestion"
        LOGGED = "logged", "Logged the ticket anyway"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    query = models.CharField(max_length=200)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.SHOWN)
    suggestion_type = models.CharField(max_length=32, blank=True)
    suggestion_key = models.CharField(max_length=64, blank=True)
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)


class CannedResponse(models.Model):
    """A reply snippet an agent inserts from the reply box: personal (owner) or shared with a team.

    The body may carry placeholders ({requester.first_name}, {ticket.number}, ...); applying it can
    also set the ticket's status and priority."""

    title = models.CharField(max_length=120)
    body = models.TextField()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="canned_responses"
    )
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="canned_responses")
    set_status = models.CharField(max_length=16, choices=Status.choices, blank=True)
    set_priority = models.PositiveSmallIntegerField(choices=Priority.choices, null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(owner__isnull=False) | models.Q(team__isnull=False), name="canned_response_has_owner_or_team"
            ),
        ]

    def __str__(self) -> str:
        return self.title
