"""The manager dashboard's figures: SLA compliance, satisfaction, backlog, adoption of the
social features per week, and a social IT maturity level estimated from them (with reasons).

A fixed number of queries whatever the volume: one aggregate per figure."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db.models import Avg, Count, Q
from django.db.models.functions import TruncWeek
from django.utils import timezone

WINDOW_DAYS = 30
WEEKS = 8
SERIES = [
    ("active_users", "Active people"),
    ("posts", "Posts"),
    ("answers", "Answers"),
    ("articles", "Articles"),
    ("deflections", "Deflections"),
]
MATURITY = {
    1: ("Reactive", "Support happens ticket by ticket; people do not yet help each other here."),
    2: ("Emerging", "People have started to post and answer; the social features are being tried."),
    3: ("Collaborative", "Communities answer questions and knowledge deflects tickets."),
    4: ("Social IT", "Service levels and satisfaction are high, and knowledge routinely saves tickets."),
}


@dataclass
class Criterion:
    level: int
    text: str
    met: bool


@dataclass
class Figures:
    now: datetime
    resolved: int = 0
    breached: int = 0
    ratings: int = 0
    satisfaction_avg: float | None = None
    satisfaction_positive: int = 0
    backlog: dict[int, int] = field(default_factory=dict)
    weeks: list[datetime] = field(default_factory=list)
    series: dict[str, list[int]] = field(default_factory=dict)
    people: int = 0
    active_recent: int = 0
    tickets_recent: int = 0
    maturity: int = 1
    criteria: list[Criterion] = field(default_factory=list)

    @property
    def sla_compliance(self) -> float | None:
        return None if not self.resolved else round(100 * (self.resolved - self.breached) / self.resolved, 1)

    @property
    def satisfaction_share(self) -> float | None:
        return None if not self.ratings else round(100 * self.satisfaction_positive / self.ratings, 1)

    @property
    def backlog_total(self) -> int:
        return sum(self.backlog.values())

    @property
    def maturity_name(self) -> str:
        return MATURITY[self.maturity][0]

    @property
    def maturity_summary(self) -> str:
        return MATURITY[self.maturity][1]

    def week_labels(self) -> list[str]:
        return [w.strftime("%d %b") for w in self.weeks]

    def recent(self, name: str, weeks: int = 4) -> int:
        return sum(self.series.get(name, [])[-weeks:])


def _week_start(now: datetime) -> datetime:
    now = now.astimezone(UTC)
    return (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)


def _weekly(qs, field_name: str, weeks: list[datetime], *, distinct: str | None = None) -> list[int]:
    counted = Count(distinct, distinct=True) if distinct else Count("pk")
    rows = qs.filter(**{f"{field_name}__gte": weeks[0]}).annotate(week=TruncWeek(field_name)).values("week").annotate(n=counted)
    by_week = {}
    for row in rows:
        week = row["week"]
        if isinstance(week, datetime) and timezone.is_naive(week):
            week = week.replace(tzinfo=UTC)
        by_week[week.date() if isinstance(week, datetime) else week] = row["n"]
    return [by_week.get(w.date(), 0) for w in weeks]


def figures(*, now: datetime | None = None) -> Figures:
    from accounts.models import User
    from communities.models import Answer, Article
    from feeds.models import Activity, Post
    from tickets.models import OPEN_STATUSES, Deflection, Rating, Ticket

    now = now or timezone.now()
    since = now - timedelta(days=WINDOW_DAYS)
    f = Figures(now=now)
    resolved = Ticket.objects.filter(resolved_at__gte=since).aggregate(
        n=Count("pk"), breached=Count("pk", filter=Q(resolution_breached_at__isnull=False)),
    )
    f.resolved, f.breached = resolved["n"], resolved["breached"]
    rated = Rating.objects.filter(created_at__gte=since).aggregate(n=Count("pk"), avg=Avg("score"), good=Count("pk", filter=Q(score__gte=4)))
    f.ratings, f.satisfaction_positive = rated["n"], rated["good"]
    f.satisfaction_avg = round(float(rated["avg"]), 2) if rated["avg"] is not None else None
    f.backlog = dict(Ticket.objects.filter(status__in=OPEN_STATUSES).values_list("priority").annotate(n=Count("pk")).order_by())
    start = _week_start(now)
    f.weeks = [start - timedelta(weeks=WEEKS - 1 - i) for i in range(WEEKS)]
    f.series = {
        "active_users": _weekly(Activity.objects.filter(actor__isnull=False), "created_at", f.weeks, distinct="actor"),
        "posts": _weekly(Post.objects.filter(deleted_at__isnull=True), "created_at", f.weeks),
        "answers": _weekly(Answer.objects.all(), "created_at", f.weeks),
        "articles": _weekly(Article.objects.all(), "created_at", f.weeks),
        "deflections": _weekly(Deflection.objects.filter(outcome=Deflection.Outcome.OPENED), "created_at", f.weeks),
    }
    recent = now - timedelta(days=28)
    counts = User.objects.aggregate(
        people=Count("pk", filter=Q(is_active=True)),
    )
    f.people = counts["people"]
    f.active_recent = Activity.objects.filter(created_at__gte=recent, actor__isnull=False).aggregate(
        n=Count("actor", distinct=True))["n"]
    f.tickets_recent = Ticket.objects.filter(created_at__gte=recent).count()
    _maturity(f)
    return f


def _maturity(f: Figures) -> None:
    share = 100 * f.active_recent / f.people if f.people else 0
    social = f.recent("posts") + f.recent("answers")
    knowledge = f.recent("answers") + f.recent("articles")
    deflections = f.recent("deflections")
    deflection_rate = 100 * deflections / (deflections + f.tickets_recent) if (deflections + f.tickets_recent) else 0
    f.criteria = [
        Criterion(2, f"At least 10% of people active in the last 4 weeks (now {share:.0f}%)", share >= 10),
        Criterion(2, f"People post or answer (last 4 weeks: {social})", social > 0),
        Criterion(3, f"At least 25% of people active (now {share:.0f}%)", share >= 25),
        Criterion(3, f"At least 4 answers or articles in 4 weeks (now {knowledge})", knowledge >= 4),
        Criterion(3, f"Knowledge deflected a ticket in 4 weeks (now {deflections})", deflections >= 1),
        Criterion(4, "SLA compliance of 90% or more (now "
                     f"{'no resolutions' if f.sla_compliance is None else f'{f.sla_compliance:g}%'})",
                  f.sla_compliance is not None and f.sla_compliance >= 90),
        Criterion(4, "Average satisfaction of 4 or more (now "
                     f"{'no ratings' if f.satisfaction_avg is None else f'{f.satisfaction_avg:g}'})",
                  f.satisfaction_avg is not None and f.satisfaction_avg >= 4),
        Criterion(4, f"Knowledge answers at least 10% of would-be tickets (now {deflection_rate:.0f}%)", deflection_rate >= 10),
    ]
    level = 1
    for candidate in (2, 3, 4):
        if all(c.met for c in f.criteria if c.level == candidate):
            level = candidate
        else:
            break
    f.maturity = level


def as_csv(f: Figures) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["week starting", *[label for _, label in SERIES]])
    for i, week in enumerate(f.weeks):
        writer.writerow([week.date().isoformat(), *[f.series[name][i] for name, _ in SERIES]])
    writer.writerow([])
    writer.writerow(["figure", "value"])
    writer.writerow([f"tickets resolved (last {WINDOW_DAYS} days)", f.resolved])
    writer.writerow(["SLA compliance %", "" if f.sla_compliance is None else f.sla_compliance])
    writer.writerow(["ratings", f.ratings])
    writer.writerow(["average satisfaction", "" if f.satisfaction_avg is None else f.satisfaction_avg])
    writer.writerow(["backlog (open tickets)", f.backlog_total])
    for priority in sorted(f.backlog):
        writer.writerow([f"backlog P{priority}", f.backlog[priority]])
    writer.writerow(["social IT maturity", f"{f.maturity} {f.maturity_name}"])
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
