"""Points, rules, badges, campaigns and bounties.

The ledger (`PointEntry`) is append-only: an entry is never edited or deleted. Undoing one is a
new, negative entry that references it (`reversal_of`). Totals, levels, leaderboards, quest
progress and influence are all derived from the ledger.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models


class Rule(models.Model):
    """How many points one kind of event is worth. Managers and admins tune these."""

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    description = models.CharField(max_length=300, blank=True)
    points = models.IntegerField()
    daily_cap = models.PositiveIntegerField(default=0, help_text="Most points one person earns from this rule per day (0: no cap).")
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return f"{self.name} ({self.points:+d})"


class Campaign(models.Model):
    """A time-boxed push: a multiplier on a rule (optionally narrowed to a tag, service or
    community) and/or a goal quest ("close 20 tickets rated 4 or more") with a bonus."""

    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="campaigns")
    multiplier = models.DecimalField(max_digits=4, decimal_places=2, default=1)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    tag = models.CharField(max_length=50, blank=True)
    service = models.ForeignKey("tickets.Service", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    community = models.ForeignKey("communities.Community", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    goal = models.PositiveIntegerField(default=0, help_text="Events of the rule needed to complete the quest (0: no quest).")
    bonus_points = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["rule", "starts_at", "ends_at"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return f"/campaigns/{self.pk}/"


class PointEntry(models.Model):
    """One line of the ledger. Positive entries credit someone for an event; a reversal is the
    negated copy of an earlier entry, pointing at it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="point_entries")
    points = models.IntegerField()
    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=255)
    # Whose action caused it (the rater, the voter): anti-gaming checks and influence read this.
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    source_type = models.CharField(max_length=32)
    source_id = models.BigIntegerField()
    source_title = models.CharField(max_length=255, blank=True)
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="entries")
    # Scopes the entry counts in, fixed when written so leaderboards rebuild exactly.
    team_id = models.IntegerField(null=True, blank=True)
    community_id = models.IntegerField(null=True, blank=True)
    service_id = models.IntegerField(null=True, blank=True)
    tags = models.CharField(max_length=255, blank=True, help_text="Comma-wrapped: ',outlook,vpn,'")
    reversal_of = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by")
    key = models.CharField(max_length=160, unique=True, help_text="What the entry is for: the same event never pays twice.")
    created_at = models.DateTimeField()
    # The moment the entry counts for in weekly and monthly boards: a reversal counts when the
    # entry it undoes was earned, so undoing last week's points corrects last week.
    earned_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "point entries"
        indexes = [
            models.Index(fields=["user", "-id"], name="points_user_idx"),
            models.Index(fields=["source_type", "source_id"], name="points_source_idx"),
            models.Index(fields=["user", "rule", "created_at"], name="points_user_rule_idx"),
            models.Index(fields=["actor", "user", "created_at"], name="points_pair_idx"),
            models.Index(fields=["earned_at"], name="points_earned_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.points:+d} {self.reason}"

    @property
    def is_reversal(self) -> bool:
        return self.reversal_of_id is not None


class Badge(models.Model):
    """A badge is a criterion over ledger events of one rule: a count, a streak of days or a
    first. Reaching a tier's threshold awards that tier, once."""

    class Kind(models.TextChoices):
        COUNT = "count", "Count of events"
        STREAK = "streak", "Days in a row with an event"
        FIRST = "first", "The first event"

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    description = models.CharField(max_length=300, blank=True)
    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="badges")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.COUNT)
    bronze = models.PositiveIntegerField(default=1)
    silver = models.PositiveIntegerField(null=True, blank=True)
    gold = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def tiers(self) -> list[tuple[str, int]]:
        out = [("bronze", self.bronze)]
        if self.kind != self.Kind.FIRST:
            out += [(t, v) for t, v in (("silver", self.silver), ("gold", self.gold)) if v]
        return out


class BadgeAward(models.Model):
    class Tier(models.TextChoices):
        BRONZE = "bronze", "Bronze"
        SILVER = "silver", "Silver"
        GOLD = "gold", "Gold"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="badge_awards")
    badge = models.ForeignKey(Badge, on_delete=models.CASCADE, related_name="awards")
    tier = models.CharField(max_length=8, choices=Tier.choices)
    awarded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "badge", "tier"], name="badge_tier_once")]
        indexes = [models.Index(fields=["user", "-awarded_at"])]


class DeskVisit(models.Model):
    """An agent went to the person's desk for a ticket."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="desk_visits")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["ticket", "-id"])]


class Bounty(models.Model):
    """Points on a problem ticket for whoever resolves it ("kill the boss")."""

    ticket = models.OneToOneField("tickets.Ticket", on_delete=models.CASCADE, related_name="bounty")
    points = models.PositiveIntegerField()
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "bounties"
