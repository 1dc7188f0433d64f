"""Daily rollups per team for the manager dashboard.

The dashboard reads `DailyTeamStat` and `ActivePersonYear` only, so its cost does not grow with
the number of tickets or activities. The rows are computed here from the source tables (tickets,
ratings, deflections, community content, follows, outbound posts, DLP flags) for a window of days
and replace what was there for those days. A periodic task refreshes the last few days every few
minutes and the last weeks nightly (late answers, ratings and reopenings change older days); the
`rebuild_dashboard_rollups` command backfills any range.

Which day and team a figure belongs to:
- tickets: the team of the ticket; created on `created_at`, resolved figures on `resolved_at`,
  response figures on `first_response_at`, ratings on the rating's day;
- social actions, questions, ideas, badges, helpful votes, deflections and DLP flags: the team of
  the person who acted, on the day they acted;
- outbound posts: the team of their ticket (none for hand-written posts), on the day decided.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import (
    Count, DurationField, Exists, ExpressionWrapper, F, IntegerField, OuterRef, Q, Subquery, Sum, Value,
)
from django.db.models.functions import Coalesce, Concat, Extract, TruncDate
from django.utils import timezone

from accounts.models import STAFF_ROLES

from .models import ActivePeriodCount, BacklogCount, DailyTeamStat

DEFLECTION_WINDOW = timedelta(hours=1)  # the window the article page and the points rule use
RECENT_DAYS = 3
NIGHTLY_DAYS = 60
LINK_PATTERN = r"/(articles|questions)/[0-9]+"


def _bounds(first: date, last: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return (datetime.combine(first, time.min, tzinfo=tz), datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz))


def _minutes(later: str, earlier: str):
    return Extract(ExpressionWrapper(F(later) - F(earlier), output_field=DurationField()), "epoch") / 60.0


def _grouped(qs, day_field: str, team_field: str, **aggregates) -> Iterable[dict]:
    return (qs.annotate(d=TruncDate(day_field), t=F(team_field)).values("d", "t")
            .annotate(**aggregates).order_by())


def resolved_tickets(start: datetime, end: datetime):
    """Tickets resolved in [start, end), annotated with what the resolved figures count: public
    replies by staff (first contact), distinct staff who wrote on it (collaboration) and social
    context (someone besides the requester followed it or said "me too", or a public comment
    links an article or a community question). The desk's own automatic follows do not count."""
    from feeds.models import Follow
    from tickets.models import Comment, MeToo, Ticket

    staff_public = (Comment.objects.filter(ticket=OuterRef("pk"), internal=False, author__role__in=STAFF_ROLES)
                    .values("ticket").annotate(c=Count("pk")).values("c"))
    staff_authors = (Comment.objects.filter(ticket=OuterRef("pk"), author__role__in=STAFF_ROLES)
                     .values("ticket").annotate(c=Count("author", distinct=True)).values("c"))
    social = (
        Exists(Follow.objects.filter(target_type=Follow.Type.TICKET, target_id=OuterRef("pk"),
                                     reason__in=[Follow.Reason.MANUAL, Follow.Reason.ME_TOO])
               .exclude(user_id=OuterRef("requester_id")))
        | Exists(MeToo.objects.filter(ticket=OuterRef("pk")))
        | Exists(Comment.objects.filter(ticket=OuterRef("pk"), internal=False, body__regex=LINK_PATTERN))
    )
    return (Ticket.objects.filter(resolved_at__gte=start, resolved_at__lt=end)
            .annotate(staff_replies=Coalesce(Subquery(staff_public, output_field=IntegerField()), 0),
                      agents=Coalesce(Subquery(staff_authors, output_field=IntegerField()), 0),
                      is_social=social))


FIRST_CONTACT = Q(resolution_count__lte=1, staff_replies__lte=1)
COLLABORATIVE = Q(agents__gte=2)


def opened_deflections(start: datetime, end: datetime):
    """Suggestions opened in [start, end); `logged` tells whether the person logged a ticket
    anyway within the hour (then nothing was saved)."""
    from tickets.models import Deflection

    logged_after = Deflection.objects.filter(
        user_id=OuterRef("user_id"), outcome=Deflection.Outcome.LOGGED, created_at__gte=OuterRef("created_at"),
        created_at__lte=OuterRef("created_at") + DEFLECTION_WINDOW,
    )
    return (Deflection.objects.filter(outcome=Deflection.Outcome.OPENED, created_at__gte=start, created_at__lt=end)
            .annotate(logged=Exists(logged_after)))


def questions_asked(start: datetime, end: datetime):
    """Questions asked in [start, end) with their first answer's time and author's role."""
    from communities.models import Answer, Question

    first_answer = Answer.objects.filter(question=OuterRef("pk"), removed_at__isnull=True).order_by("created_at", "pk")
    return (Question.objects.filter(removed_at__isnull=True, created_at__gte=start, created_at__lt=end)
            .annotate(first_at=Subquery(first_answer.values("created_at")[:1]),
                      first_role=Subquery(first_answer.values("author__role")[:1])))


COMMUNITY_ANSWERED = Q(first_at__isnull=False) & ~Q(first_role__in=STAFF_ROLES)


def _tickets(start: datetime, end: datetime, add) -> None:
    from tickets.models import Rating, Ticket

    for row in _grouped(Ticket.objects.filter(created_at__gte=start, created_at__lt=end), "created_at", "team_id",
                        n=Count("pk")):
        add(row, tickets_created=row["n"])
    for row in _grouped(resolved_tickets(start, end), "resolved_at", "team_id",
                        n=Count("pk"),
                        breached=Count("pk", filter=Q(resolution_breached_at__isnull=False)),
                        minutes=Sum(_minutes("resolved_at", "created_at")),
                        fcr=Count("pk", filter=FIRST_CONTACT),
                        reopened=Count("pk", filter=Q(resolution_count__gt=1)),
                        social=Count("pk", filter=Q(is_social=True)),
                        collab=Count("pk", filter=COLLABORATIVE)):
        add(row, tickets_resolved=row["n"], resolution_breached=row["breached"], resolve_minutes=row["minutes"] or 0,
            first_contact=row["fcr"], reopened=row["reopened"], social_tickets=row["social"],
            collaborative_tickets=row["collab"])
    for row in _grouped(Ticket.objects.filter(first_response_at__gte=start, first_response_at__lt=end),
                        "first_response_at", "team_id", n=Count("pk"),
                        breached=Count("pk", filter=Q(response_breached_at__isnull=False)),
                        minutes=Sum(_minutes("first_response_at", "created_at"))):
        add(row, responded=row["n"], response_breached=row["breached"], response_minutes=row["minutes"] or 0)
    for row in _grouped(Rating.objects.filter(created_at__gte=start, created_at__lt=end), "created_at", "ticket__team_id",
                        n=Count("pk"), total=Sum("score"), good=Count("pk", filter=Q(score__gte=4))):
        add(row, ratings=row["n"], rating_sum=row["total"] or 0, ratings_positive=row["good"])


def _deflections(start: datetime, end: datetime, add) -> None:
    for row in _grouped(opened_deflections(start, end), "created_at", "user__team_id",
                        views=Count("pk", filter=Q(suggestion_type="article")),
                        saved=Count(Concat("user_id", Value(":"), "query"), filter=Q(logged=False), distinct=True)):
        add(row, article_views=row["views"], deflections_saved=row["saved"])


SOCIAL_ACTIONS = [
    # (app.Model, extra filter, actor field, counter on DailyTeamStat or None)
    ("feeds.Post", Q(deleted_at__isnull=True), "author", "posts"),
    ("feeds.PostComment", Q(deleted_at__isnull=True), "author", "comments"),
    ("communities.AnswerComment", Q(), "author", "comments"),
    ("communities.Answer", Q(removed_at__isnull=True), "author", "answers"),
    ("communities.Vote", Q(), "user", "votes"),
    ("communities.IdeaVote", Q(), "user", "votes"),
    ("communities.PollVote", Q(), "user", "votes"),
    ("feeds.Like", Q(), "user", "likes"),
    ("feeds.Follow", Q(reason="manual"), "user", "follows"),
    ("communities.Question", Q(removed_at__isnull=True), "author", None),
    ("communities.Article", Q(removed_at__isnull=True), "author", "articles"),
    ("communities.Idea", Q(removed_at__isnull=True), "author", None),
]


def _community(start: datetime, end: datetime, add, active: set) -> None:
    from django.apps import apps

    from communities.models import HelpfulVote, Idea

    for label, extra, actor, counter in SOCIAL_ACTIONS:
        rows = (apps.get_model(label).objects.filter(extra, created_at__gte=start, created_at__lt=end)
                .annotate(d=TruncDate("created_at"), t=F(f"{actor}__team_id"), u=F(f"{actor}_id"))
                .values("d", "t", "u").annotate(n=Count("pk")).order_by())
        for row in rows:
            active.add((row["d"], row["u"], row["t"]))
            if counter:
                add(row, **{counter: row["n"]})

    for row in _grouped(questions_asked(start, end), "created_at", "author__team_id", n=Count("pk"),
                        answered=Count("pk", filter=Q(first_at__isnull=False)),
                        community=Count("pk", filter=COMMUNITY_ANSWERED),
                        minutes=Sum(_minutes("first_at", "created_at"))):
        add(row, questions=row["n"], questions_answered=row["answered"], questions_community_answered=row["community"],
            first_answer_minutes=row["minutes"] or 0)
    for row in _grouped(Idea.objects.filter(removed_at__isnull=True, created_at__gte=start, created_at__lt=end),
                        "created_at", "author__team_id", n=Count("pk"), done=Count("pk", filter=Q(status=Idea.Status.DONE))):
        add(row, ideas=row["n"], ideas_done=row["done"])
    for row in _grouped(HelpfulVote.objects.filter(created_at__gte=start, created_at__lt=end), "created_at", "user__team_id",
                        n=Count("pk")):
        add(row, helpful_votes=row["n"])


def _recognition_and_outbound(start: datetime, end: datetime, add) -> None:
    from policies.models import DlpFlag, OutboundPost, OutboundStatus

    from .models import BadgeAward

    for row in _grouped(BadgeAward.objects.filter(awarded_at__gte=start, awarded_at__lt=end), "awarded_at", "user__team_id",
                        n=Count("pk")):
        add(row, badges=row["n"])
    sent = [OutboundStatus.SENT]
    held = [OutboundStatus.PENDING_REVIEW]
    for row in _grouped(OutboundPost.objects.filter(decided_at__gte=start, decided_at__lt=end), "decided_at", "ticket__team_id",
                        sent=Count("pk", filter=Q(status__in=sent)), held=Count("pk", filter=Q(status__in=held)),
                        blocked=Count("pk", filter=Q(status=OutboundStatus.BLOCKED))):
        add(row, outbound_sent=row["sent"], outbound_held=row["held"], outbound_blocked=row["blocked"])
    for row in _grouped(DlpFlag.objects.filter(created_at__gte=start, created_at__lt=end), "created_at", "author__team_id",
                        n=Count("pk")):
        add(row, dlp_flags=row["n"])


@transaction.atomic
def rollups_refresh(*, first: date, last: date) -> int:
    """Recompute the rollups of every day from `first` to `last` (inclusive) from the source
    tables and replace the stored rows of those days. Returns the number of rows written."""
    start, end = _bounds(first, last)
    cells: dict[tuple, dict] = defaultdict(dict)

    def add(row: dict, **values) -> None:
        cell = cells[(row["d"], row["t"])]
        for name, value in values.items():
            cell[name] = cell.get(name, 0) + value

    active: set[tuple] = set()
    _tickets(start, end, add)
    _deflections(start, end, add)
    _community(start, end, add, active)
    _recognition_and_outbound(start, end, add)

    now = timezone.now()
    DailyTeamStat.objects.filter(day__gte=first, day__lte=last).delete()
    DailyTeamStat.objects.bulk_create(
        [DailyTeamStat(day=day, team_id=team, refreshed_at=now, **values) for (day, team), values in cells.items()
         if first <= day <= last], batch_size=2000)
    _active_write(first, last, {(d, u, t) for d, u, t in active if first <= d <= last})
    _active_periods_write(first, last)
    _backlog_write(now)
    return len(cells)


def _backlog_write(now: datetime) -> None:
    from tickets.models import OPEN_STATUSES, Ticket

    counts = Ticket.objects.filter(status__in=OPEN_STATUSES).values("team_id", "priority").annotate(n=Count("pk")).order_by()
    BacklogCount.objects.all().delete()
    BacklogCount.objects.bulk_create([BacklogCount(team_id=row["team_id"], priority=row["priority"], open=row["n"], refreshed_at=now)
                                      for row in counts])


# --- active people: one bit per day and person-year ---------------------------------------------

BITS = 366
TABLE = "gamification_activepersonyear"


def _mask(year: int, first: date, last: date) -> str:
    """The bits of the days from `first` to `last` that fall in `year`, as a bit(366) literal."""
    jan1 = date(year, 1, 1)
    lo, hi = max(first, jan1), min(last, date(year, 12, 31))
    if lo > hi:
        return "0" * BITS
    a, b = (lo - jan1).days, (hi - jan1).days
    return "0" * a + "1" * (b - a + 1) + "0" * (BITS - b - 1)


def range_condition(first: date, last: date) -> tuple[str, list]:
    """SQL (and its parameters) true for a person-year row active on a day from first to last."""
    parts, params = [], []
    for year in range(first.year, last.year + 1):
        parts.append("(year = %s AND (days & %s::bit(366)) <> %s::bit(366))")
        params += [year, _mask(year, first, last), "0" * BITS]
    return "(" + " OR ".join(parts) + ")", params


def active_total(*, first: date, last: date, team_id: int | None) -> int:
    """Distinct people who took a social action from first to last (one query)."""
    condition, params = range_condition(first, last)
    sql = f"SELECT count(DISTINCT user_id) FROM {TABLE} WHERE year BETWEEN %s AND %s AND {condition}"  # noqa: S608
    params = [first.year, last.year, *params]
    if team_id:
        sql, params = sql + " AND team_id = %s", [*params, team_id]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def period_bounds(unit: str, start: date) -> tuple[date, date]:
    if unit == "day":
        return start, start
    if unit == "week":
        return start, start + timedelta(days=6)
    return start, (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def periods(unit: str, first: date, last: date) -> list[date]:
    """The starts of the days, weeks (Mondays) or months that overlap first..last."""
    if unit == "day":
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]
    if unit == "week":
        start = first - timedelta(days=first.weekday())
        return [start + timedelta(weeks=i) for i in range((last - start).days // 7 + 1)]
    out, cursor = [], first.replace(day=1)
    while cursor <= last:
        out.append(cursor)
        cursor = (cursor + timedelta(days=32)).replace(day=1)
    return out


def _active_periods_write(first: date, last: date) -> None:
    """Recount the days, weeks and months that overlap first..last from the person-year bits."""
    rows = []
    with connection.cursor() as cursor:
        for unit in ("day", "week", "month"):
            starts = periods(unit, first, last)
            ActivePeriodCount.objects.filter(unit=unit, start__in=starts).delete()
            for start in starts:
                condition, params = range_condition(*period_bounds(unit, start))
                cursor.execute(f"SELECT team_id, count(DISTINCT user_id) FROM {TABLE} WHERE {condition} "  # noqa: S608
                               "GROUP BY team_id", params)
                rows += [ActivePeriodCount(unit=unit, start=start, team_id=team, people=n) for team, n in cursor.fetchall()]
    ActivePeriodCount.objects.bulk_create(rows, batch_size=2000)


def _active_write(first: date, last: date, active: set[tuple]) -> None:
    """Clear the days first..last of every person-year, then set the bits of who was active."""
    zero = "0" * BITS
    by_person: dict[tuple[int, int], tuple[int | None, list[int]]] = {}
    for day, user, team in active:
        key = (user, day.year)
        days = by_person.setdefault(key, (team, []))[1]
        days.append((day - date(day.year, 1, 1)).days)
    with connection.cursor() as cursor:
        for year in range(first.year, last.year + 1):
            mask = _mask(year, first, last)
            cursor.execute(f"UPDATE {TABLE} SET days = days & ~%s::bit(366) "  # noqa: S608
                           "WHERE year = %s AND (days & %s::bit(366)) <> %s::bit(366)", [mask, year, mask, zero])
        rows = []
        for (user, year), (team, days) in by_person.items():
            bits = ["0"] * BITS
            for index in days:
                bits[index] = "1"
            rows.append([user, team, year, "".join(bits)])
        if rows:
            cursor.executemany(
                f"INSERT INTO {TABLE} (user_id, team_id, year, days) VALUES (%s, %s, %s, %s::bit(366)) "  # noqa: S608
                f"ON CONFLICT (user_id, year) DO UPDATE SET days = {TABLE}.days | EXCLUDED.days, team_id = EXCLUDED.team_id",
                rows)


def rollups_refresh_recent(*, days: int = RECENT_DAYS, today: date | None = None) -> int:
    today = today or timezone.localdate()
    return rollups_refresh(first=today - timedelta(days=days - 1), last=today)
