"""The lists behind the dashboard's figures, for the same date range and team, read from the
source tables with the definitions the rollups use. One page of 50 rows, newest first."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from accounts.models import STAFF_ROLES

from . import rollups
from .dashboard import Selection

PAGE_SIZE = 50


@dataclass
class Row:
    at: datetime | None
    label: str
    url: str
    detail: str


@dataclass
class Drill:
    key: str
    title: str
    rows: list[Row]
    page: int
    has_next: bool


def _ticket_rows(qs, day_field: str, detail) -> list[Row]:
    return [Row(getattr(t, day_field), f"{t.number} {t.title}", t.get_absolute_url(), detail(t)) for t in qs]


def _tickets(selection: Selection, *, day_field: str, where: Q = Q(), resolved: bool = False, detail=lambda t: t.get_status_display()):
    from tickets.models import Ticket

    start, end = selection.bounds()
    qs = (rollups.resolved_tickets(start, end) if resolved
          else Ticket.objects.filter(**{f"{day_field}__gte": start, f"{day_field}__lt": end}))
    if selection.team_id:
        qs = qs.filter(team_id=selection.team_id)
    qs = qs.filter(where).only("id", "kind", "title", "status", "created_at", "first_response_at", "resolved_at", "resolution_count").order_by(f"-{day_field}", "-id")
    return qs, lambda page: _ticket_rows(page, day_field, detail)


def _by_actor(qs, selection: Selection, team_field: str):
    return qs.filter(**{team_field: selection.team_id}) if selection.team_id else qs


def _deflections(selection: Selection, where: Q):
    start, end = selection.bounds()
    qs = _by_actor(rollups.opened_deflections(start, end), selection, "user__team_id").filter(where)
    qs = qs.select_related("user").order_by("-created_at", "-id")

    def make(page):
        return [Row(d.created_at, f"\u201c{d.query}\u201d", f"/articles/{d.suggestion_key}/" if d.suggestion_type == "article"
                    and d.suggestion_key.isdecimal() else "", f"{d.user.display_name or d.user.username} opened a "
                    f"{d.suggestion_type or 'suggestion'}" + (" and logged a ticket within the hour" if d.logged else ""))
                for d in page]
    return qs, make


def _questions(selection: Selection, where: Q):
    start, end = selection.bounds()
    qs = _by_actor(rollups.questions_asked(start, end), selection, "author__team_id").filter(where)
    qs = qs.select_related("community").order_by("-created_at", "-id")

    def make(page):
        return [Row(q.created_at, q.title, q.get_absolute_url(),
                    "not answered yet" if q.first_at is None else
                    f"first answer after {(q.first_at - q.created_at).total_seconds() / 3600:.1f} h by "
                    f"{'staff' if q.first_role in STAFF_ROLES else 'the community'}") for q in page]
    return qs, make


def _outbound(selection: Selection, status: str):
    from policies.models import OutboundPost

    start, end = selection.bounds()
    qs = OutboundPost.objects.filter(decided_at__gte=start, decided_at__lt=end, status=status)
    if selection.team_id:
        qs = qs.filter(ticket__team_id=selection.team_id)
    qs = qs.select_related("channel").order_by("-decided_at", "-id")

    def make(page):
        return [Row(p.decided_at, f"{p.channel.name}: {p.get_event_display()}", f"/communications/outbound/{p.pk}/",
                    "; ".join(str(r) for r in (p.reasons or [])[:2])) for p in page]
    return qs, make


def _simple(selection: Selection, model: str, *, day_field: str, team_field: str, where: Q = Q(), related=(), describe):
    from django.apps import apps

    start, end = selection.bounds()
    qs = _by_actor(apps.get_model(model).objects.filter(where, **{f"{day_field}__gte": start, f"{day_field}__lt": end}),
                   selection, team_field).select_related(*related).order_by(f"-{day_field}", "-id")
    return qs, lambda page: [describe(o) for o in page]


def _active(selection: Selection):
    from django.db.models.expressions import RawSQL

    from accounts.models import User

    condition, params = rollups.range_condition(selection.first, selection.last)
    sql = f"SELECT user_id FROM {rollups.TABLE} WHERE {condition}"  # noqa: S608
    if selection.team_id:
        sql, params = sql + " AND team_id = %s", [*params, selection.team_id]
    qs = User.objects.filter(pk__in=RawSQL(sql, params)).only("username", "display_name").order_by("username")

    def make(page):
        return [Row(None, p.display_name or p.username, f"/people/{p.username}/", "took at least one social action")
                for p in page]
    return qs, make


def _registry(selection: Selection) -> dict:
    from policies.models import OutboundStatus

    breached = Q(resolution_breached_at__isnull=False)
    return {
        "tickets_created": ("Tickets logged", lambda: _tickets(selection, day_field="created_at")),
        "tickets_resolved": ("Tickets resolved", lambda: _tickets(
            selection, day_field="resolved_at", resolved=True,
            detail=lambda t: f"resolved after {(t.resolved_at - t.created_at).total_seconds() / 3600:.1f} h")),
        "resolution_breached": ("Tickets resolved after their resolution SLA",
                                lambda: _tickets(selection, day_field="resolved_at", resolved=True, where=breached)),
        "first_contact": ("Tickets resolved at first contact",
                          lambda: _tickets(selection, day_field="resolved_at", resolved=True, where=rollups.FIRST_CONTACT)),
        "reopened": ("Resolved tickets that had been reopened", lambda: _tickets(
            selection, day_field="resolved_at", resolved=True, where=Q(resolution_count__gt=1),
            detail=lambda t: f"resolved {t.resolution_count} times")),
        "social_tickets": ("Resolved tickets with an article, community answer or follower",
                           lambda: _tickets(selection, day_field="resolved_at", resolved=True, where=Q(is_social=True))),
        "collaborative_tickets": ("Resolved tickets several agents worked on",
                                  lambda: _tickets(selection, day_field="resolved_at", resolved=True, where=rollups.COLLABORATIVE)),
        "responded": ("Tickets with a first response", lambda: _tickets(
            selection, day_field="first_response_at",
            detail=lambda t: f"answered after {(t.first_response_at - t.created_at).total_seconds() / 3600:.1f} h")),
        "response_breached": ("Tickets answered after their response SLA", lambda: _tickets(
            selection, day_field="first_response_at", where=Q(response_breached_at__isnull=False))),
        "ratings": ("Satisfaction ratings", lambda: _simple(
            selection, "tickets.Rating", day_field="created_at", team_field="ticket__team_id", related=["ticket"],
            describe=lambda r: Row(r.created_at, r.ticket.number, r.ticket.get_absolute_url(), f"rated {r.score} / 5"))),
        "deflections_saved": ("Tickets saved by knowledge (no ticket logged within the hour)",
                              lambda: _deflections(selection, Q(logged=False))),
        "article_views": ("Articles opened from the portal's suggestions",
                          lambda: _deflections(selection, Q(suggestion_type="article"))),
        "helpful_votes": ("Articles marked helpful", lambda: _simple(
            selection, "communities.HelpfulVote", day_field="created_at", team_field="user__team_id", related=["article"],
            describe=lambda v: Row(v.created_at, v.article.title, v.article.get_absolute_url(), "marked helpful"))),
        "questions": ("Questions asked", lambda: _questions(selection, Q())),
        "community_answered": ("Questions first answered by the community",
                               lambda: _questions(selection, rollups.COMMUNITY_ANSWERED)),
        "ideas_done": ("Ideas done", lambda: _simple(
            selection, "communities.Idea", day_field="created_at", team_field="author__team_id",
            where=Q(status="done", removed_at__isnull=True),
            describe=lambda i: Row(i.created_at, i.title, "", "done"))),
        "badges": ("Badges awarded", lambda: _simple(
            selection, "gamification.BadgeAward", day_field="awarded_at", team_field="user__team_id", related=["badge", "user"],
            describe=lambda b: Row(b.awarded_at, b.badge.name, f"/people/{b.user.username}/",
                                   f"to {b.user.display_name or b.user.username}"))),
        "outbound_sent": ("Outbound posts sent", lambda: _outbound(selection, OutboundStatus.SENT)),
        "outbound_held": ("Outbound posts held for review", lambda: _outbound(selection, OutboundStatus.PENDING_REVIEW)),
        "outbound_blocked": ("Outbound posts blocked", lambda: _outbound(selection, OutboundStatus.BLOCKED)),
        "dlp_flags": ("DLP flags", lambda: _simple(
            selection, "policies.DlpFlag", day_field="created_at", team_field="author__team_id",
            describe=lambda d: Row(d.created_at, d.kind.replace("_", " ").capitalize(),
                                   d.url or "/communications/flags/", f"{len(d.findings or [])} finding(s), {d.get_status_display().lower()}"))),
        "active_people": ("People who took a social action", lambda: _active(selection)),
    }



def drill(*, key: str, selection: Selection, page: int = 1, page_size: int = PAGE_SIZE) -> Drill | None:
    """The rows behind one figure (one page of `page_size`); None for a figure that has no list."""
    entry = _registry(selection).get(key)
    if entry is None:
        return None
    title, build = entry
    qs, make = build()
    page = max(1, page)
    offset = (page - 1) * page_size
    items = list(qs[offset:offset + page_size + 1])
    return Drill(key=key, title=title, rows=make(items[:page_size]), page=page, has_next=len(items) > page_size)


CSV_LIMIT = 10_000


def as_csv(result: Drill, selection: Selection) -> str:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([result.title, "from", selection.first.isoformat(), "to", selection.last.isoformat(), "team", selection.team_name])
    writer.writerow(["when", "what", "link", "detail"])
    for row in result.rows:
        writer.writerow([row.at.isoformat() if row.at else "", row.label, row.url, row.detail])
    if result.has_next:
        writer.writerow([f"(first {CSV_LIMIT} rows; narrow the selection for the rest)"])
    return out.getvalue()
