"""Reads of tickets shared by pages and the API. Every list has a fixed number of queries."""
from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import Case, Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum, Value, When, Window
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import STAFF_ROLES, Team, User
from feeds.models import Follow
from servicedesk.errors import NotVisible

from .models import (
    OPEN_STATUSES,
    Comment,
    Kind,
    MeToo,
    Priority,
    SavedView,
    Service,
    Status,
    Ticket,
    TicketChange,
    Visibility,
)


def _follows():
    return Follow.objects.filter(target_type=Follow.Type.TICKET)


def is_staff(user: User) -> bool:
    return getattr(user, "role", None) in STAFF_ROLES


def can_see(user: User, ticket: Ticket) -> bool:
    """Private tickets: requester, agents, managers, admins. Public ones: everyone signed in."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return is_staff(user) or ticket.visibility == Visibility.PUBLIC or ticket.requester_id == user.pk


def visible_tickets(user: User) -> QuerySet[Ticket]:
    qs = Ticket.objects.all()
    if is_staff(user):
        return qs
    return qs.filter(Q(requester=user) | Q(visibility=Visibility.PUBLIC))


def ticket_get(*, user: User, ticket_id) -> Ticket:
    try:
        ticket_id = int(ticket_id)
    except (TypeError, ValueError):
        raise NotVisible() from None
    ticket = (
        # Fewer joins and no search vector: PostgreSQL plans this query on every page view.
        Ticket.objects.select_related("requester", "assignee", "team", "service").defer("search_vector")
        .filter(pk=ticket_id).first()
    )
    if ticket is None or not can_see(user, ticket):
        raise NotVisible()
    return ticket


@dataclass
class TicketFilters:
    status: list[str] = field(default_factory=list)
    priority: list[int] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    assignee: str | None = None  # username, "me" or "none"
    requester: str | None = None  # username or "me"
    team: int | None = None
    service: int | None = None
    following: bool = False
    breached: bool = False
    q: str = ""
    sort: str = "-id"


SORTS = {
    "-id": ("-id",),
    "id": ("id",),
    "priority": ("priority", "-id"),
    "due": (F("resolution_due_at").asc(nulls_last=True), "-id"),
    "updated": ("-updated_at", "-id"),
}


LIST_DEFERRED = ("description", "description_html", "search_vector")
LIST_FIELDS = tuple(
    f.name for f in Ticket._meta.concrete_fields if f.name not in LIST_DEFERRED
) + (
    "requester__id", "requester__username", "requester__display_name",
    "assignee__id", "assignee__username", "assignee__display_name",
    "team__id", "team__name", "service__id", "service__name",
)


def _base_list(user: User, *, with_text: bool) -> QuerySet[Ticket]:
    """Pages never show the long text columns in lists: leave them (and the search vector) in the
    table unless the caller asks for them (the API returns descriptions)."""
    qs = visible_tickets(user).select_related("requester", "assignee", "team", "service")
    if with_text:
        return qs.defer("search_vector")
    # Building 50 rows with four full related models costs more than the query itself.
    return qs.only(*LIST_FIELDS)


def ticket_list(*, user: User, filters: TicketFilters, with_text: bool = False) -> QuerySet[Ticket]:
    qs = _base_list(user, with_text=with_text)
    if filters.status:
        qs = qs.filter(status__in=filters.status)
    if filters.priority:
        qs = qs.filter(priority__in=filters.priority)
    if filters.kind:
        qs = qs.filter(kind__in=filters.kind)
    if filters.assignee == "me":
        qs = qs.filter(assignee=user)
    elif filters.assignee == "none":
        qs = qs.filter(assignee__isnull=True)
    elif filters.assignee:
        qs = qs.filter(assignee__username=filters.assignee)
    if filters.requester == "me":
        qs = qs.filter(requester=user)
    elif filters.requester:
        qs = qs.filter(requester__username=filters.requester)
    if filters.team:
        qs = qs.filter(team_id=filters.team)
    if filters.service:
        qs = qs.filter(service_id=filters.service)
    if filters.following:
        qs = qs.filter(Exists(_follows().filter(target_id=OuterRef("pk"), user=user)))
    if filters.breached:
        qs = qs.filter(Q(response_breached_at__isnull=False) | Q(resolution_breached_at__isnull=False))
    if filters.q:
        qs = search(qs, filters.q)
        return qs
    return qs.order_by(*SORTS.get(filters.sort, SORTS["-id"]))


def page_of(queryset: QuerySet[Ticket], start: int, stop: int) -> list[Ticket]:
    """A slice of a ticket list in two short queries: the ids, chosen on the tickets table alone,
    then those rows with their people, team and service. In one query PostgreSQL joins every
    match (a whole backlog, hashing every user) before it sorts and cuts the page."""
    if queryset.query.annotations:  # a ranked search: the row query needs the rank to sort
        return list(queryset[start:stop])
    ids = list(queryset.values_list("pk", flat=True)[start:stop])
    rows = {ticket.pk: ticket for ticket in queryset.filter(pk__in=ids).order_by()}
    return [rows[pk] for pk in ids if pk in rows]


def search(qs: QuerySet[Ticket], text: str) -> QuerySet[Ticket]:
    """Full-text search with ranking on PostgreSQL; a plain substring match elsewhere. A ticket
    number ("INC-000042") finds that ticket directly."""
    text = text.strip()[:200]
    from .services import TICKET_NUMBER_RE

    number = TICKET_NUMBER_RE.search(text.upper())
    if number:
        return qs.filter(pk=int(number.group(2)))
    if connection.vendor == "postgresql":
        query = SearchQuery(text, search_type="websearch", config="english")
        return qs.filter(search_vector=query).annotate(rank=SearchRank(F("search_vector"), query)).order_by("-rank", "-id")
    return qs.filter(Q(title__icontains=text) | Q(description__icontains=text)).order_by("-id")


def suggestions(*, user: User, text: str, limit: int = 5) -> list[Ticket]:
    """Open public incidents that look like what someone is about to log (deflection)."""
    if len(text.strip()) < 3:
        return []
    qs = Ticket.objects.filter(visibility=Visibility.PUBLIC, kind=Kind.INCIDENT, status__in=OPEN_STATUSES)
    return list(search(qs, text).select_related("service")[:limit])


def comments_for(*, user: User, ticket: Ticket) -> list[Comment]:
    qs = Comment.objects.filter(ticket=ticket).select_related("author").prefetch_related("attachments").order_by("id")
    if not is_staff(user):
        qs = qs.filter(internal=False)
    return list(qs)


def changes_for(*, user: User, ticket: Ticket) -> list[TicketChange]:
    if not is_staff(user):
        return []
    return list(TicketChange.objects.filter(ticket=ticket).select_related("actor").order_by("id"))


@dataclass
class TicketPage:
    ticket: Ticket
    comments: list[Comment]
    changes: list[TicketChange]
    following: bool
    me_too: bool
    follower_count: int
    can_rate: bool
    can_reopen: bool
    incidents: list[Ticket]


def ticket_page(*, user: User, ticket: Ticket) -> TicketPage:
    from .models import Rating

    followers = _follows().filter(target_id=OuterRef("pk")).order_by().values("target_id").annotate(n=Count("pk"))
    flags = Ticket.objects.filter(pk=ticket.pk).annotate(
        following=Exists(_follows().filter(target_id=OuterRef("pk"), user=user)),
        me_too=Exists(MeToo.objects.filter(ticket=OuterRef("pk"), user=user)),
        rated=Exists(Rating.objects.filter(ticket=OuterRef("pk"), resolution_round=OuterRef("resolution_count"))),
        follower_count=Coalesce(Subquery(followers.values("n")[:1]), 0),
    ).values("following", "me_too", "rated", "follower_count").get()
    can_rate, can_reopen = resolution_choices(user=user, ticket=ticket, rated=flags["rated"])
    incidents = []
    if ticket.kind == Kind.PROBLEM:
        incidents = list(ticket.incidents.select_related("requester").order_by("-id")[:200])
    return TicketPage(
        ticket=ticket,
        comments=comments_for(user=user, ticket=ticket),
        changes=changes_for(user=user, ticket=ticket),
        following=flags["following"],
        me_too=flags["me_too"],
        follower_count=flags["follower_count"],
        can_rate=can_rate,
        can_reopen=can_reopen,
        incidents=incidents,
    )


def resolution_choices(*, user: User, ticket: Ticket, rated: bool | None = None) -> tuple[bool, bool]:
    """(may rate, may reopen) now: the requester rates each resolution once and reopens for a
    while after it; agents reopen resolved tickets. `rated` is read (one query) when not given."""
    from django.conf import settings

    from .models import Rating

    is_requester = ticket.requester_id == user.pk
    resolved = ticket.status in (Status.RESOLVED, Status.CLOSED)
    if rated is None and is_requester and resolved:
        rated = Rating.objects.filter(ticket=ticket, resolution_round=ticket.resolution_count).exists()
    resolved_recently = (
        ticket.status == Status.RESOLVED
        and ticket.resolved_at is not None
        and (timezone.now() - ticket.resolved_at).days < settings.TICKET_REOPEN_DAYS
    )
    can_rate = is_requester and resolved and not rated
    can_reopen = (is_staff(user) and ticket.status == Status.RESOLVED) or (is_requester and resolved_recently)
    return can_rate, can_reopen


@dataclass
class SocialContext:
    """Who the requester is, gathered for the agent beside the conversation."""

    person: User
    recent_tickets: list[Ticket]
    open_count: int
    standing: object
    communities: list
    last_activity_at: object


def social_context(*, viewer: User, person: User) -> SocialContext | None:
    if not is_staff(viewer):
        return None
    from feeds.models import Activity
    from gamification.selectors import standing_for

    last_activity = Activity.objects.filter(actor=person).order_by("-id").values("created_at")[:1]
    # One query: the five latest tickets, each carrying the person's open count and last activity.
    recent = list(
        Ticket.objects.filter(requester=person)
        .only("id", "kind", "title", "status", "created_at")
        .annotate(
            open_total=Window(Sum(Case(When(status__in=OPEN_STATUSES, then=Value(1)), default=Value(0)))),
            last_activity_at=Subquery(last_activity),
        )
        .order_by("-id")[:5]
    )
    if recent:
        open_count, last = recent[0].open_total, recent[0].last_activity_at
    else:
        open_count, last = 0, Activity.objects.filter(actor=person).order_by("-id").values_list("created_at", flat=True).first()
    return SocialContext(
        person=person,
        recent_tickets=recent,
        open_count=open_count,
        standing=standing_for([person])[person.pk],
        communities=[],
        last_activity_at=last,
    )


def services_active() -> QuerySet[Service]:
    return Service.objects.filter(active=True).select_related("owner_team").order_by("name")


def teams() -> QuerySet[Team]:
    return Team.objects.order_by("name")


def saved_views_for(*, user: User) -> QuerySet[SavedView]:
    return SavedView.objects.filter(owner=user).order_by("name")


def agents() -> QuerySet[User]:
    return User.objects.filter(role__in=STAFF_ROLES, is_active=True).order_by("display_name")


def parse_filters(params, *, user: User) -> tuple[TicketFilters, dict[str, list[str]]]:
    """Turn query parameters into filters; unknown values are errors, never silently ignored."""
    errors: dict[str, list[str]] = {}
    f = TicketFilters()

    def split(name):
        return [v for raw in params.getlist(name) for v in raw.split(",") if v != ""]

    f.status = split("status")
    if bad := [s for s in f.status if s not in Status.values]:
        errors["status"] = [f"Unknown status {', '.join(bad)}; choose from {', '.join(Status.values)}."]
    f.kind = split("kind")
    if bad := [k for k in f.kind if k not in Kind.values]:
        errors["kind"] = [f"Unknown kind {', '.join(bad)}; choose from {', '.join(Kind.values)}."]
    try:
        f.priority = [int(p) for p in split("priority")]
        if any(p not in Priority.values for p in f.priority):
            raise ValueError
    except ValueError:
        errors["priority"] = ["Priorities are whole numbers from 1 (critical) to 4 (low)."]
    for name in ("team", "service"):
        raw = params.get(name)
        if raw:
            try:
                setattr(f, name, int(raw))
            except ValueError:
                errors[name] = ["Give the numeric id."]
    f.assignee = params.get("assignee") or None
    f.requester = params.get("requester") or None
    for name in ("following", "breached"):
        raw = (params.get(name) or "").lower()
        if raw in ("true", "1", "yes", "on"):
            setattr(f, name, True)
        elif raw not in ("", "false", "0", "no", "off"):
            errors[name] = ["Use true or false."]
    f.q = (params.get("q") or "").strip()
    sort = params.get("sort") or "-id"
    if sort not in SORTS:
        errors["sort"] = [f"Sort by one of {', '.join(SORTS)}."]
    else:
        f.sort = sort
    return f, errors


# --- role homes -------------------------------------------------------------------------------


def _home_list(qs: QuerySet[Ticket]) -> QuerySet[Ticket]:
    return qs.select_related("service").defer("search_vector", "description")


def home_my_open(*, user: User, limit: int = 6) -> list[Ticket]:
    """The person's own open tickets, most recently moved first."""
    qs = Ticket.objects.filter(requester=user, status__in=OPEN_STATUSES).order_by("-updated_at", "-id")
    return list(_home_list(qs)[:limit])


def home_followed(*, user: User, incidents_only: bool = False, limit: int = 5) -> list[Ticket]:
    """Tickets the person follows and may still see, each with its latest comment they may read
    (`latest_body`, `latest_at`, `latest_internal`): one query."""
    followed = _follows().filter(user=user).values("target_id")
    comments = Comment.objects.filter(ticket=OuterRef("pk"))
    if not is_staff(user):
        comments = comments.filter(internal=False)
    latest = comments.order_by("-id")
    qs = visible_tickets(user).filter(pk__in=followed).annotate(
        latest_body=Subquery(latest.values("body")[:1]),
        latest_at=Subquery(latest.values("created_at")[:1]),
        latest_internal=Subquery(latest.values("internal")[:1]),
    )
    if incidents_only:  # an end user's own tickets are listed on their own
        qs = qs.filter(kind=Kind.INCIDENT, status__in=OPEN_STATUSES).exclude(requester=user)
    return list(_home_list(qs).order_by("-updated_at", "-id")[:limit])


def home_assigned_by_sla(*, user: User, limit: int = 8) -> list[Ticket]:
    """An agent's open tickets, the nearest resolution deadline first (no deadline last)."""
    qs = Ticket.objects.filter(assignee=user, status__in=OPEN_STATUSES).order_by(
        F("resolution_due_at").asc(nulls_last=True), "priority", "id")
    return list(_home_list(qs)[:limit])


def home_unassigned_in_team(*, user: User, limit: int = 8) -> list[Ticket]:
    """Open tickets of the agent's team nobody has taken yet, most urgent first."""
    if user.team_id is None:
        return []
    qs = Ticket.objects.filter(team_id=user.team_id, assignee__isnull=True, status__in=OPEN_STATUSES).order_by(
        "priority", F("resolution_due_at").asc(nulls_last=True), "id")
    return list(_home_list(qs)[:limit])
