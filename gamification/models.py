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


# --- manager dashboard: daily rollups and the social IT maturity plan ----------------------------


class DailyTeamStat(models.Model):
    """The dashboard's figures for one day and one team (team null: no team), computed from the
    source tables by `gamification.rollups` and read by `gamification.dashboard`. Replaced as a
    whole for a day whenever that day is recomputed; never edited by hand."""

    day = models.DateField()
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    tickets_created = models.PositiveIntegerField(default=0)
    tickets_resolved = models.PositiveIntegerField(default=0)
    resolution_breached = models.PositiveIntegerField(default=0)
    resolve_minutes = models.FloatField(default=0)
    first_contact = models.PositiveIntegerField(default=0)
    reopened = models.PositiveIntegerField(default=0)
    social_tickets = models.PositiveIntegerField(default=0)
    collaborative_tickets = models.PositiveIntegerField(default=0)
    responded = models.PositiveIntegerField(default=0)
    response_breached = models.PositiveIntegerField(default=0)
    response_minutes = models.FloatField(default=0)
    ratings = models.PositiveIntegerField(default=0)
    rating_sum = models.PositiveIntegerField(default=0)
    ratings_positive = models.PositiveIntegerField(default=0)
    deflections_saved = models.PositiveIntegerField(default=0)
    article_views = models.PositiveIntegerField(default=0)
    helpful_votes = models.PositiveIntegerField(default=0)
    questions = models.PositiveIntegerField(default=0)
    questions_answered = models.PositiveIntegerField(default=0)
    questions_community_answered = models.PositiveIntegerField(default=0)
    first_answer_minutes = models.FloatField(default=0)
    posts = models.PositiveIntegerField(default=0)
    comments = models.PositiveIntegerField(default=0)
    answers = models.PositiveIntegerField(default=0)
    votes = models.PositiveIntegerField(default=0)
    likes = models.PositiveIntegerField(default=0)
    follows = models.PositiveIntegerField(default=0)
    articles = models.PositiveIntegerField(default=0)
    ideas = models.PositiveIntegerField(default=0)
    ideas_done = models.PositiveIntegerField(default=0)
    badges = models.PositiveIntegerField(default=0)
    outbound_sent = models.PositiveIntegerField(default=0)
    outbound_held = models.PositiveIntegerField(default=0)
    outbound_blocked = models.PositiveIntegerField(default=0)
    dlp_flags = models.PositiveIntegerField(default=0)
    refreshed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["day", "team"], name="daily_team_stat_idx"),
                   models.Index(fields=["team", "day"], name="daily_stat_team_day_idx")]


class DayBits(models.Field):
    """One bit per day of a year (bit 0: 1 January), a PostgreSQL bit(366). Written and read with
    SQL by `gamification.rollups` (bitwise AND/OR over a range of days)."""

    def db_type(self, connection) -> str:
        return "bit(366)"


class ActivePersonYear(models.Model):
    """The days of one year on which someone took a social action (post, comment, answer, vote,
    like, follow, question, article, idea). "Active people" over any date range is the number of
    rows whose bits meet the range's mask: at most one row per person and year, whatever the range."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    days = DayBits()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "year"], name="active_person_year_once")]
        indexes = [models.Index(fields=["year", "team"], name="active_person_year_idx")]


class ActivePeriodCount(models.Model):
    """How many distinct people of a team took a social action in one day, week (from Monday) or
    calendar month: the dashboard's "active people" chart, one row per bar and team."""

    unit = models.CharField(max_length=8)
    start = models.DateField()
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    people = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["unit", "start", "team"], name="active_period_idx")]


class BacklogCount(models.Model):
    """Open tickets per team and priority when the rollups were last refreshed ("backlog now")."""

    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    priority = models.PositiveSmallIntegerField()
    open = models.PositiveIntegerField()
    refreshed_at = models.DateTimeField()


class MaturityPlan(models.Model):
    """The documented social IT plan with its KPI targets (level 1 of the maturity model). Each
    save is a new row; the newest is the plan in force."""

    summary = models.TextField()
    summary_html = models.TextField(blank=True)
    satisfaction_target = models.DecimalField(max_digits=3, decimal_places=2, help_text="Average rating, 1 to 5.")
    response_sla_target = models.PositiveSmallIntegerField(help_text="% of tickets answered within the response SLA.")
    active_share_target = models.PositiveSmallIntegerField(help_text="% of people taking a social action.")
    social_ticket_target = models.PositiveSmallIntegerField(help_text="% of resolved tickets with social context.")
    collaboration_target = models.PositiveSmallIntegerField(help_text="% of resolved tickets several agents worked on.")
    community_answer_target = models.PositiveSmallIntegerField(help_text="% of questions answered by non-staff.")
    first_answer_hours_target = models.PositiveIntegerField(help_text="Mean hours to a question's first answer.")
    ideas_done_target = models.PositiveIntegerField(help_text="Ideas reaching done in the period.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]


class MaturitySnapshot(models.Model):
    """The maturity level reached in one week (organisation-wide), kept for the history chart."""

    week = models.DateField(unique=True, help_text="Monday of the week.")
    level = models.PositiveSmallIntegerField()
    criteria = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["week"]
