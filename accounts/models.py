from __future__ import annotations

import hashlib

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Upper


class Role(models.TextChoices):
    END_USER = "end_user", "End user"
    AGENT = "agent", "Agent"
    MANAGER = "manager", "Manager"
    ADMIN = "admin", "Admin"


STAFF_ROLES = frozenset({Role.AGENT, Role.MANAGER, Role.ADMIN})


class Team(models.Model):
    """An organisational team (e.g. "Service Desk"); ticket queues are assigned to teams."""

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.END_USER, db_index=True)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members")
    display_name = models.CharField(max_length=150, blank=True)
    title = models.CharField(max_length=150, blank=True)
    location = models.CharField(max_length=150, blank=True)
    avatar = models.ImageField(upload_to="avatars/", blank=True)
    expertise_tags = models.JSONField(default=list, blank=True)
    email_notifications = models.BooleanField(default=True)
    email_digest = models.BooleanField(default=False, help_text="One e-mail a day instead of one per event.")
    quiet_hours_start = models.TimeField(null=True, blank=True)
    quiet_hours_end = models.TimeField(null=True, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    last_digest_at = models.DateTimeField(null=True, blank=True)
    # When the owner was last told about repeated failed sign-ins (at most once per window).
    failed_signins_alerted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.username

    def save(self, *args, **kwargs):
        if not self.display_name:
            full = f"{self.first_name} {self.last_name}".strip()
            self.display_name = full or self.username
        super().save(*args, **kwargs)

    @property
    def is_agent(self) -> bool:
        """Agents, managers and admins all work tickets and may see internal notes."""
        return self.role in STAFF_ROLES

    @property
    def is_manager(self) -> bool:
        return self.role in (Role.MANAGER, Role.ADMIN)

    @property
    def is_admin_role(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def initials(self) -> str:
        parts = (self.display_name or self.username).split()
        return "".join(p[0] for p in parts[:2]).upper() or self.username[:1].upper()


class LoginRecord(models.Model):
    """One sign-in attempt, successful or not. Shown only to the account it names."""

    class Method(models.TextChoices):
        PASSWORD = "password", "Password (web)"
        TOKEN = "token", "API token request"

    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE, related_name="logins")
    username = models.CharField(max_length=150)
    at = models.DateTimeField(auto_now_add=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    success = models.BooleanField()
    method = models.CharField(max_length=16, choices=Method.choices, default=Method.PASSWORD)
    # The owner's remembered device (see accounts.guard) the attempt came from, if any.
    device = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "-id"]),
            models.Index(Upper("username"), "at", name="loginrecord_username_at"),
            models.Index(fields=["ip", "at"], name="loginrecord_ip_at"),
        ]

    def __str__(self) -> str:
        outcome = "ok" if self.success else "failed"
        return f"{self.username} {outcome} at {self.at:%Y-%m-%d %H:%M}"


class SecurityReport(models.Model):
    """A person said a sign-in was not theirs. Admins review these."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    reporter = models.ForeignKey(User, on_delete=models.CASCADE, related_name="security_reports")
    login = models.OneToOneField(LoginRecord, on_delete=models.CASCADE, related_name="report")
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    note = models.TextField(blank=True)
    ticket = models.ForeignKey("tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return f"Report by {self.reporter} on sign-in {self.login_id}"


def api_token_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class ApiToken(models.Model):
    """An API token. Only the SHA-256 digest of the key is stored; the key is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8, help_text="The first characters of the key, to recognise it.")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-id"])]

    def __str__(self) -> str:
        return f"{self.prefix}… for {self.user_id}"
