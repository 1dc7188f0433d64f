"""The manager dashboard's figures for a date range and a team: service (SLA, satisfaction,
response and resolution times, first contact resolution, reopen rate), value (tickets saved by
knowledge and what they cost, community answers, article reuse, outbound results, DLP flags),
adoption (active people as a share of people, social actions) and social IT maturity as the
four-level model defines it, each criterion with its figure, its target and met or not.

Every figure is read from the daily rollups (`gamification.rollups`), so the page costs the
same few small queries for any range and any volume. The drill-downs read the source tables
with the same definitions the rollups use (`rollups.resolved_tickets` and friends).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Avg, Count, Max, Q, Sum
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone

from policies.selectors import external_channel_counts
from servicedesk.errors import ApplicationError

from . import rollups
from .models import DailyTeamStat, MaturityPlan, MaturitySnapshot

DEFAULT_DAYS = 30
MAX_DAYS = 3 * 366
LEVELS = {
    0: ("Not on the scale yet", "No documented social IT plan with targets exists yet: write one to start."),
    1: ("Exploration", "A documented plan with KPI targets exists; the social add-ons are not yet measured against it."),
    2: ("Add-ons", "Satisfaction and the response SLA meet their targets and every outbound channel is governed."),
    3: ("Embedded", "Social is part of IT work: tickets carry social context and agents collaborate."),
    4: ("Community", "A self-sustaining community answers questions, recognition is in use and ideas get done."),
}
COUNTERS = [f.name for f in DailyTeamStat._meta.get_fields() if f.name not in ("id", "day", "team", "refreshed_at")]
SOCIAL_COUNTERS = ["posts", "comments", "answers", "votes", "likes", "follows", "questions", "articles", "ideas"]


@dataclass(frozen=True)
class Selection:
    first: date
    last: date
    team_id: int | None = None
    team_name: str = "All teams"

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def query(self) -> dict[str, str]:
        out = {"from": self.first.isoformat(), "to": self.last.isoformat()}
        if self.team_id:
            out["team"] = str(self.team_id)
        return out

    def bounds(self) -> tuple[datetime, datetime]:
        return rollups._bounds(self.first, self.last)


def selection_parse(params, *, today: date | None = None) -> Selection:
    """`from`, `to` (YYYY-MM-DD) and `team` (a team id) from a query string; the last 30 days
    and all teams when absent. Bad values raise ApplicationError with field errors (400)."""
    from accounts.models import Team

    today = today or timezone.localdate()
    errors: dict[str, list[str]] = {}

    def day(name: str, default: date) -> date:
        raw = (params.get(name) or "").strip()
        if not raw:
            return default
        try:
            return date.fromisoformat(raw)
        except ValueError:
            errors[name] = ["Use a date like 2026-01-31."]
            return default

    last = day("to", today)
    first = day("from", last - timedelta(days=DEFAULT_DAYS - 1))
    if not errors and first > last:
        errors["from"] = ["The start must be on or before the end."]
    elif not errors and (last - first).days + 1 > MAX_DAYS:
        errors["from"] = [f"Choose at most {MAX_DAYS} days."]
    team_id, team_name = None, "All teams"
    raw_team = (params.get("team") or "").strip()
    if raw_team:
        team = Team.objects.filter(pk=int(raw_team)).only("name").first() if raw_team.isdecimal() and len(raw_team) < 10 else None
        if team is None:
            errors["team"] = ["Choose a team from the list."]
        else:
            team_id, team_name = team.pk, team.name
    if errors:
        raise ApplicationError("Check the dashboard filters.", errors=errors)
    return Selection(first=first, last=last, team_id=team_id, team_name=team_name)


@dataclass
class Criterion:
    level: int
    key: str
    name: str
    figure: str
    target: str
    met: bool
    drill: str = ""


def _pct(part: float, whole: float) -> float | None:
    return None if not whole else round(100 * part / whole, 1)


def _mean(total: float, n: int, per: float = 1) -> float | None:
    return None if not n else round(total / n / per, 1)


@dataclass
class Figures:
    selection: Selection
    sums: dict[str, float] = field(default_factory=dict)
    active_people: int = 0
    people: int = 0
    backlog: dict[int, int] = field(default_factory=dict)
    refreshed_at: datetime | None = None
    plan: MaturityPlan | None = None
    channels: int = 0
    channels_ungoverned: int = 0
    campaigns: int = 0
    buckets: list[date] = field(default_factory=list)
    bucket_unit: str = "day"
    series: dict[str, list[float]] = field(default_factory=dict)
    history: list[MaturitySnapshot] = field(default_factory=list)
    criteria: list[Criterion] = field(default_factory=list)
    maturity: int = 0

    def __getattr__(self, name: str):  # the counters read like attributes in templates
        sums = self.__dict__.get("sums", {})
        if name in sums:
            return sums[name]
        raise AttributeError(name)

    @property
    def cost_per_ticket(self) -> float:
        return float(settings.DASHBOARD_COST_PER_TICKET)

    @property
    def saved_cost(self) -> float:
        return round(self.sums["deflections_saved"] * self.cost_per_ticket, 2)

    @property
    def resolution_sla(self) -> float | None:
        return _pct(self.sums["tickets_resolved"] - self.sums["resolution_breached"], self.sums["tickets_resolved"])

    @property
    def response_sla(self) -> float | None:
        return _pct(self.sums["responded"] - self.sums["response_breached"], self.sums["responded"])

    @property
    def satisfaction_avg(self) -> float | None:
        return None if not self.sums["ratings"] else round(self.sums["rating_sum"] / self.sums["ratings"], 2)

    @property
    def satisfaction_share(self) -> float | None:
        return _pct(self.sums["ratings_positive"], self.sums["ratings"])

    @property
    def first_contact_rate(self) -> float | None:
        return _pct(self.sums["first_contact"], self.sums["tickets_resolved"])

    @property
    def reopen_rate(self) -> float | None:
        return _pct(self.sums["reopened"], self.sums["tickets_resolved"])

    @property
    def mean_response_hours(self) -> float | None:
        return _mean(self.sums["response_minutes"], self.sums["responded"], 60)

    @property
    def mean_resolve_hours(self) -> float | None:
        return _mean(self.sums["resolve_minutes"], self.sums["tickets_resolved"], 60)

    @property
    def community_share(self) -> float | None:
        return _pct(self.sums["questions_community_answered"], self.sums["questions"])

    @property
    def first_answer_hours(self) -> float | None:
        return _mean(self.sums["first_answer_minutes"], self.sums["questions_answered"], 60)

    @property
    def social_ticket_share(self) -> float | None:
        return _pct(self.sums["social_tickets"], self.sums["tickets_resolved"])

    @property
    def collaboration_share(self) -> float | None:
        return _pct(self.sums["collaborative_tickets"], self.sums["tickets_resolved"])

    @property
    def active_share(self) -> float | None:
        return _pct(self.active_people, self.people)

    @property
    def social_actions(self) -> int:
        return int(sum(self.sums[name] for name in SOCIAL_COUNTERS))

    @property
    def backlog_total(self) -> int:
        return sum(self.backlog.values())

    @property
    def maturity_name(self) -> str:
        return LEVELS[self.maturity][0]

    @property
    def maturity_summary(self) -> str:
        return LEVELS[self.maturity][1]

    def bucket_labels(self) -> list[str]:
        fmt = {"day": "%d %b", "week": "%d %b", "month": "%b %Y"}[self.bucket_unit]
        return [b.strftime(fmt) for b in self.buckets]


SERIES = [
    ("active_people", "Active people"),
    ("social_actions", "Social actions"),
    ("deflections_saved", "Tickets saved by knowledge"),
    ("tickets_resolved", "Tickets resolved"),
]


def _stats(selection: Selection):
    qs = DailyTeamStat.objects.filter(day__gte=selection.first, day__lte=selection.last)
    return qs.filter(team_id=selection.team_id) if selection.team_id else qs


def _buckets(selection: Selection) -> tuple[str, list[date]]:
    unit = "day" if selection.days <= 31 else "week" if selection.days <= 26 * 7 else "month"
    return unit, rollups.periods(unit, selection.first, selection.last)


def _series(f: Figures) -> None:
    """Per bar: the counters' sums (one query) and the distinct active people (one query)."""
    from .models import ActivePeriodCount

    unit, f.buckets = _buckets(f.selection)
    f.bucket_unit = unit
    trunc = {"day": None, "week": TruncWeek("day"), "month": TruncMonth("day")}[unit]
    counters = ["deflections_saved", "tickets_resolved", *SOCIAL_COUNTERS]
    stats, key = _stats(f.selection), "day"
    if trunc is not None:
        stats, key = stats.annotate(b=trunc), "b"
    by_bucket: dict[date, dict] = {}
    for row in stats.values(key).annotate(**{c: Sum(c) for c in counters}).order_by():
        b = row[key].date() if isinstance(row[key], datetime) else row[key]
        by_bucket[b] = row
    active = ActivePeriodCount.objects.filter(unit=unit, start__in=f.buckets)
    if f.selection.team_id:
        active = active.filter(team_id=f.selection.team_id)
    people = dict(active.values_list("start").annotate(n=Sum("people")).order_by())
    f.series = {
        "active_people": [people.get(b, 0) for b in f.buckets],
        "social_actions": [sum(by_bucket.get(b, {}).get(c) or 0 for c in SOCIAL_COUNTERS) for b in f.buckets],
        "deflections_saved": [by_bucket.get(b, {}).get("deflections_saved") or 0 for b in f.buckets],
        "tickets_resolved": [by_bucket.get(b, {}).get("tickets_resolved") or 0 for b in f.buckets],
    }


def _governance(f: Figures) -> None:
    from policies.models import Channel

    row = Channel.objects.filter(active=True).annotate(
        policies_in_force=Count("policies", filter=Q(policies__active=True))
    ).aggregate(n=Count("pk"), ungoverned=Count("pk", filter=Q(policies_in_force=0)))
    f.channels, f.channels_ungoverned = row["n"], row["ungoverned"]
    # Where requesters chose to hear about their tickets (the seeds' "meet people where they are").
    f.external_channels = external_channel_counts(team_id=f.selection.team_id)


def figures(selection: Selection, *, with_series: bool = True, with_history: bool = True) -> Figures:
    from accounts.models import User

    from .models import BacklogCount, Campaign

    f = Figures(selection=selection)
    agg = _stats(selection).aggregate(**{c: Sum(c) for c in COUNTERS}, refreshed=Max("refreshed_at"))
    f.refreshed_at = agg.pop("refreshed")
    f.sums = {c: (agg[c] or 0) for c in COUNTERS}
    people = User.objects.filter(is_active=True)
    f.people = (people.filter(team_id=selection.team_id) if selection.team_id else people).count()
    backlog = BacklogCount.objects.all()
    if selection.team_id:
        backlog = backlog.filter(team_id=selection.team_id)
    f.backlog = dict(backlog.values_list("priority").annotate(n=Sum("open")).order_by())
    start, end = selection.bounds()
    f.plan = MaturityPlan.objects.filter(created_at__lt=end).select_related("created_by").first()
    _governance(f)
    f.people_without_channel = max(f.people - sum(c["people"] for c in f.external_channels), 0)
    f.campaigns = Campaign.objects.filter(starts_at__lt=end, ends_at__gte=start).count()
    f.active_people = rollups.active_total(first=selection.first, last=selection.last, team_id=selection.team_id)
    if with_series:
        _series(f)
    if with_history:
        f.history = list(MaturitySnapshot.objects.order_by("-week")[:12])[::-1]
    _maturity(f)
    return f


def _fmt(value: float | None, unit: str = "", empty: str = "no data") -> str:
    return empty if value is None else f"{value:g}{unit}"


def _at_least(value: float | None, target) -> bool:
    return value is not None and target is not None and value >= float(target)


def _maturity(f: Figures) -> None:
    p = f.plan
    no_target = "no plan"
    done = int(f.sums["ideas_done"])
    f.criteria = [
        Criterion(1, "plan", "Documented social IT plan with KPI targets",
                  f"written {p.created_at:%d %b %Y}" if p else "none yet", "a plan with targets", p is not None),
        Criterion(2, "satisfaction", "Satisfaction (average rating)", _fmt(f.satisfaction_avg, " / 5"),
                  f"≥ {float(p.satisfaction_target):g} / 5" if p else no_target,
                  _at_least(f.satisfaction_avg, p and p.satisfaction_target), "ratings"),
        Criterion(2, "response_sla", "Response SLA met", _fmt(f.response_sla, "%"),
                  f"≥ {p.response_sla_target}%" if p else no_target,
                  _at_least(f.response_sla, p and p.response_sla_target), "response_breached"),
        Criterion(2, "policies", "Communication policies in force on every outbound channel",
                  f"{f.channels - f.channels_ungoverned} of {f.channels} channels governed", "every channel",
                  f.channels_ungoverned == 0),
        Criterion(3, "social_tickets", "Resolved tickets with an article, community answer or follower",
                  _fmt(f.social_ticket_share, "%"), f"≥ {p.social_ticket_target}%" if p else no_target,
                  _at_least(f.social_ticket_share, p and p.social_ticket_target), "social_tickets"),
        Criterion(3, "collaboration", "Resolved tickets several agents worked on", _fmt(f.collaboration_share, "%"),
                  f"≥ {p.collaboration_target}%" if p else no_target,
                  _at_least(f.collaboration_share, p and p.collaboration_target), "collaborative_tickets"),
        Criterion(3, "active", "People taking a social action", _fmt(f.active_share, "%"),
                  f"≥ {p.active_share_target}%" if p else no_target,
                  _at_least(f.active_share, p and p.active_share_target), "active_people"),
        Criterion(4, "community_answers", "Questions first answered by non-staff", _fmt(f.community_share, "%"),
                  f"≥ {p.community_answer_target}%" if p else no_target,
                  _at_least(f.community_share, p and p.community_answer_target), "community_answered"),
        Criterion(4, "first_answer", "Mean time to a question's first answer", _fmt(f.first_answer_hours, " h"),
                  f"≤ {p.first_answer_hours_target} h" if p else no_target,
                  p is not None and f.first_answer_hours is not None and f.first_answer_hours <= p.first_answer_hours_target,
                  "questions"),
        Criterion(4, "recognition", "Recognition in use (campaigns and badges)",
                  f"{f.campaigns} campaign{'s' if f.campaigns != 1 else ''}, {int(f.sums['badges'])} badges awarded",
                  "at least one of each", f.campaigns > 0 and f.sums["badges"] > 0, "badges"),
        Criterion(4, "ideas_done", "Ideas reaching done", str(done), f"≥ {p.ideas_done_target}" if p else no_target,
                  p is not None and done >= p.ideas_done_target, "ideas_done"),
    ]
    level = 0
    for candidate in (1, 2, 3, 4):
        if all(c.met for c in f.criteria if c.level == candidate):
            level = candidate
        else:
            break
    f.maturity = level


def snapshot_week(*, today: date | None = None) -> MaturitySnapshot:
    """Record this week's maturity level (organisation-wide, over the 28 days up to today)."""
    today = today or timezone.localdate()
    f = figures(Selection(first=today - timedelta(days=27), last=today), with_series=False, with_history=False)
    week = today - timedelta(days=today.weekday())
    snapshot, _ = MaturitySnapshot.objects.update_or_create(
        week=week, defaults={"level": f.maturity, "criteria": [
            {"key": c.key, "level": c.level, "figure": c.figure, "target": c.target, "met": c.met} for c in f.criteria]},
    )
    return snapshot


VALUE_ROWS = [
    # (key, label, attribute, unit, drill key)
    ("saved_cost", "Cost saved by knowledge", "saved_cost", "", "deflections_saved"),
    ("deflections_saved", "Tickets saved by knowledge", "deflections_saved", "", "deflections_saved"),
    ("first_contact_rate", "First contact resolution", "first_contact_rate", "%", "first_contact"),
    ("mean_response_hours", "Mean time to respond", "mean_response_hours", " h", "responded"),
    ("mean_resolve_hours", "Mean time to resolve", "mean_resolve_hours", " h", "tickets_resolved"),
    ("reopen_rate", "Reopen rate", "reopen_rate", "%", "reopened"),
    ("community_share", "Questions answered by the community", "community_share", "%", "community_answered"),
    ("article_views", "Article views from suggestions", "article_views", "", "article_views"),
    ("helpful_votes", "Articles marked helpful", "helpful_votes", "", "helpful_votes"),
    ("outbound_sent", "Outbound posts sent", "outbound_sent", "", "outbound_sent"),
    ("outbound_held", "Outbound posts held for review", "outbound_held", "", "outbound_held"),
    ("outbound_blocked", "Outbound posts blocked", "outbound_blocked", "", "outbound_blocked"),
    ("dlp_flags", "DLP flags", "dlp_flags", "", "dlp_flags"),
]
SERVICE_ROWS = [
    ("resolution_sla", "Resolution SLA met", "resolution_sla", "%", "resolution_breached"),
    ("response_sla", "Response SLA met", "response_sla", "%", "response_breached"),
    ("satisfaction_avg", "Average satisfaction", "satisfaction_avg", " / 5", "ratings"),
    ("tickets_created", "Tickets logged", "tickets_created", "", "tickets_created"),
    ("tickets_resolved", "Tickets resolved", "tickets_resolved", "", "tickets_resolved"),
    ("active_share", "People taking a social action", "active_share", "%", "active_people"),
    ("social_actions", "Social actions", "social_actions", "", ""),
]


def rows(f: Figures, spec) -> list[dict]:
    out = []
    for key, label, attr, unit, drill in spec:
        value = getattr(f, attr)
        if isinstance(value, float) and value.is_integer() and not unit:
            value = int(value)
        out.append({"key": key, "label": label, "value": value, "unit": unit, "drill": drill})
    return out


def as_csv(f: Figures) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    s = f.selection
    writer.writerow(["from", s.first.isoformat(), "to", s.last.isoformat(), "team", s.team_name])
    writer.writerow([])
    writer.writerow(["figure", "value"])
    for row in rows(f, SERVICE_ROWS) + rows(f, VALUE_ROWS):
        writer.writerow([row["label"] + (f" ({row['unit'].strip()})" if row["unit"] else ""),
                         "" if row["value"] is None else row["value"]])
    writer.writerow(["cost per ticket", f.cost_per_ticket])
    writer.writerow(["active people", f.active_people])
    writer.writerow(["people", f.people])
    writer.writerow(["backlog (open tickets, now)", f.backlog_total])
    for priority in sorted(f.backlog):
        writer.writerow([f"backlog P{priority}", f.backlog[priority]])
    for channel in f.external_channels:
        writer.writerow([f"people hearing about their tickets on {channel['name']}", channel["people"]])
    writer.writerow(["social IT maturity", f"{f.maturity} {f.maturity_name}"])
    writer.writerow([])
    writer.writerow(["maturity level", "criterion", "figure", "target", "met"])
    for c in f.criteria:
        writer.writerow([c.level, c.name, c.figure, c.target, "yes" if c.met else "no"])
    if f.buckets:
        writer.writerow([])
        writer.writerow([f"{f.bucket_unit} starting", *[label for _, label in SERIES]])
        for i, bucket in enumerate(f.buckets):
            writer.writerow([bucket.isoformat(), *[f.series[name][i] for name, _ in SERIES]])
    return out.getvalue()


@dataclass
class WeekHeadline:
    """The manager home's figures for the last seven days (two queries)."""

    opened: int
    resolved: int
    breached: int
    backlog: int
    ratings: int
    satisfaction_avg: float | None

    @property
    def sla_compliance(self) -> float | None:
        return None if not self.resolved else round(100 * (self.resolved - self.breached) / self.resolved, 1)


def week_headline(*, now: datetime | None = None) -> WeekHeadline:
    from tickets.models import OPEN_STATUSES, Rating, Ticket

    since = (now or timezone.now()) - timedelta(days=7)
    tickets = Ticket.objects.aggregate(
        opened=Count("pk", filter=Q(created_at__gte=since)),
        resolved=Count("pk", filter=Q(resolved_at__gte=since)),
        breached=Count("pk", filter=Q(resolved_at__gte=since, resolution_breached_at__isnull=False)),
        backlog=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
    )
    rated = Rating.objects.filter(created_at__gte=since).aggregate(n=Count("pk"), avg=Avg("score"))
    return WeekHeadline(
        opened=tickets["opened"], resolved=tickets["resolved"], breached=tickets["breached"], backlog=tickets["backlog"],
        ratings=rated["n"], satisfaction_avg=round(float(rated["avg"]), 1) if rated["avg"] is not None else None,
    )
