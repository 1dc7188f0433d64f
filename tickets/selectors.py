"""Reads of tickets shared by pages and the API. Every list has a fixed number of queries."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import NamedTuple

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import Case, Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum, Value, When, Window
from django.db.models.functions import Coalesce, Now
from django.utils import timezone

from accounts.models import STAFF_ROLES, Team, User
from feeds.models import Follow
from servicedesk import similarity
from servicedesk.errors import NotVisible
from servicedesk.prepared import prepared

from .models import (
    OPEN_STATUSES,
    CannedResponse,
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
    found = _ticket_by_id.run(ticket_id=ticket_id) if 0 < ticket_id < 2**63 else []
    ticket = found[0] if found else None
    if ticket is None or not can_see(user, ticket):
        raise NotVisible()
    return ticket


@prepared(args=("ticket_id",))
def _ticket_by_id(*, ticket_id):
    # Fewer joins and no search vector: PostgreSQL plans this query on every page view.
    return (
        Ticket.objects.select_related("requester", "assignee", "team", "service").defer("search_vector")
        .filter(pk=ticket_id).order_by()[:1]
    )


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
    due_soon: bool = False  # open, not breached, resolution due within SLA_WARNING_MINUTES
    q: str = ""
    sort: str = "-id"


SORTS = {
    "-id": ("-id",),
    "id": ("id",),
    "priority": ("priority", "-id"),
    # Equal due times (logged out of business hours): the one waiting longest first.
    "due": (F("resolution_due_at").asc(nulls_last=True), "id"),
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
    if filters.due_soon:
        from django.conf import settings

        # The database's clock: the statement stays the same from one request to the next.
        qs = qs.filter(
            resolution_due_at__gt=Now(), resolution_due_at__lte=Now() + timedelta(minutes=settings.SLA_WARNING_MINUTES),
            resolution_breached_at__isnull=True, response_breached_at__isnull=True, sla_paused_at__isnull=True,
        )
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
    """Open public incidents reported by colleagues that look like what someone is about to log
    (deflection); the caller's own tickets are never among them (see `own_similar`)."""
    if len(text.strip()) < 3:
        return []
    qs = (
        Ticket.objects.filter(visibility=Visibility.PUBLIC, kind=Kind.INCIDENT, status__in=OPEN_STATUSES)
        .exclude(requester=user).select_related("service").defer("search_vector")
    )
    return similarity.ranked(qs, text, limit=limit, vector=F("search_vector"), fts_table="tickets_ticket_fts")


def own_similar(*, user: User, text: str, limit: int = 3) -> list[Ticket]:
    """The caller's own open tickets that look like what they are about to log again."""
    if len(text.strip()) < 3 or not user.is_authenticated:
        return []
    qs = Ticket.objects.filter(requester=user, status__in=OPEN_STATUSES).select_related("service").defer("search_vector")
    return similarity.ranked(qs, text, limit=limit, vector=F("search_vector"), fts_table="tickets_ticket_fts")


def comments_for(*, user: User, ticket: Ticket) -> list[Comment]:
    """The conversation with each comment's author and files, in two queries compiled once."""
    comments = (_comments_all if is_staff(user) else _comments_public).run(ticket_id=ticket.pk)
    if not comments:
        return comments
    files: dict[int, list] = {}
    for attachment in _attachments_of_comments.run(ticket_id=ticket.pk):
        files.setdefault(attachment.comment_id, []).append(attachment)
    for comment in comments:
        # What prefetch_related("attachments") leaves behind, so `comment.attachments.all` reads no more.
        related = comment.attachments.get_queryset()
        related._result_cache, related._prefetch_done = files.get(comment.pk, []), True
        comment._prefetched_objects_cache = {"attachments": related}
    return comments


@prepared(args=("ticket_id",))
def _comments_all(*, ticket_id):
    return Comment.objects.filter(ticket_id=ticket_id).select_related("author").order_by("id")


@prepared(args=("ticket_id",))
def _comments_public(*, ticket_id):
    return Comment.objects.filter(ticket_id=ticket_id, internal=False).select_related("author").order_by("id")


@prepared(args=("ticket_id",))
def _attachments_of_comments(*, ticket_id):
    from .models import Attachment

    return Attachment.objects.filter(comment__ticket_id=ticket_id).order_by("id")


def changes_for(*, user: User, ticket: Ticket) -> list[TicketChange]:
    if not is_staff(user):
        return []
    return _changes_of.run(ticket_id=ticket.pk)


@prepared(args=("ticket_id",))
def _changes_of(*, ticket_id):
    return TicketChange.objects.filter(ticket_id=ticket_id).select_related("actor").order_by("id")


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
    duplicates: list[Ticket] = field(default_factory=list)


def ticket_page(*, user: User, ticket: Ticket) -> TicketPage:
    flags = _ticket_flags.run(ticket_id=ticket.pk, user_id=user.pk)[0]
    can_rate, can_reopen = resolution_choices(user=user, ticket=ticket, rated=flags["rated"])
    # One query for both kinds of link: a problem's incidents, and the duplicates merged into this ticket.
    linked = Q(merged_into_id=ticket.pk)
    if ticket.kind == Kind.PROBLEM:
        linked |= Q(problem_id=ticket.pk)
    rows = [] if ticket.kind != Kind.PROBLEM and not flags["has_duplicates"] else list(
        Ticket.objects.filter(linked).select_related("requester")
        .only("id", "kind", "title", "status", "problem_id", "merged_into_id", "requester__id", "requester__display_name",
              "requester__username")
        .order_by("-id")[:200]
    )
    incidents = [t for t in rows if t.problem_id == ticket.pk and ticket.kind == Kind.PROBLEM]
    duplicates = [t for t in rows if t.merged_into_id == ticket.pk]
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
        duplicates=duplicates,
    )


@prepared(args=("ticket_id", "user_id"))
def _ticket_flags(*, ticket_id, user_id):
    from .models import Rating

    followers = _follows().filter(target_id=OuterRef("pk")).order_by().values("target_id").annotate(n=Count("pk"))
    return Ticket.objects.filter(pk=ticket_id).annotate(
        following=Exists(_follows().filter(target_id=OuterRef("pk"), user_id=user_id)),
        me_too=Exists(MeToo.objects.filter(ticket=OuterRef("pk"), user_id=user_id)),
        rated=Exists(Rating.objects.filter(ticket=OuterRef("pk"), resolution_round=OuterRef("resolution_count"))),
        follower_count=Coalesce(Subquery(followers.values("n")[:1]), 0),
        has_duplicates=Exists(Ticket.objects.filter(merged_into_id=OuterRef("pk"))),
    ).values("following", "me_too", "rated", "follower_count", "has_duplicates")


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
    """Who the requester is, gathered for the agent beside the conversation. `extra` holds what
    the apps above tickets add through `social_provider` (communities, influence, knowledge)."""

    person: User
    recent_tickets: list[Ticket]
    open_count: int
    standing: object
    communities: list
    last_activity_at: object
    extra: dict = field(default_factory=dict)


# name -> provider(viewer, person) -> anything the social context template shows under that name.
_social_providers: dict[str, object] = {}
_social_more_providers: dict[str, object] = {}


def social_provider(name: str, provider, *, on_demand: bool = False) -> None:
    """Let an app above tickets (communities, gamification) add to "About the requester" without
    tickets importing it. Registered from the app's ready(); the provider decides what the viewer
    may see, and keeps to one or two queries. `on_demand` ones are read only when the agent opens
    "more about them" (`social_more`), which keeps them out of the ticket page's budget."""
    (_social_more_providers if on_demand else _social_providers)[name] = provider


def social_context(*, viewer: User, person: User) -> SocialContext | None:
    if not is_staff(viewer):
        return None
    from feeds.models import Activity

    recent = _recent_tickets_of.run(person_id=person.pk)
    if recent:
        open_count, last = recent[0].open_total, recent[0].last_activity_at
    else:
        open_count, last = 0, Activity.objects.filter(actor=person).order_by("-id").values_list("created_at", flat=True).first()
    extra = {name: provider(viewer, person) for name, provider in _social_providers.items()}
    return SocialContext(
        person=person,
        recent_tickets=recent,
        open_count=open_count,
        standing=extra.pop("standing", None),
        communities=extra.pop("communities", []),
        last_activity_at=last,
        extra=extra,
    )


@prepared(args=("person_id",))
def _recent_tickets_of(*, person_id):
    """One query: the five latest tickets, each carrying the person's open count and last activity."""
    from feeds.models import Activity

    last_activity = Activity.objects.filter(actor_id=person_id).order_by("-id").values("created_at")[:1]
    return (
        Ticket.objects.filter(requester_id=person_id)
        .only("id", "kind", "title", "status", "created_at")
        .annotate(
            open_total=Window(Sum(Case(When(status__in=OPEN_STATUSES, then=Value(1)), default=Value(0)))),
            last_activity_at=Subquery(last_activity),
        )
        .order_by("-id")[:5]
    )


@dataclass
class SocialMore:
    """The rest of "About the requester", read when the agent asks for it."""

    person: User
    ratings: list
    recent_posts: list
    extra: dict


def social_more(*, viewer: User, person: User) -> SocialMore | None:
    if not is_staff(viewer):
        return None
    from feeds.models import Post

    from .models import Rating

    ratings = list(
        Rating.objects.filter(rater=person).select_related("ticket").only(
            "score", "comment", "created_at", "ticket__id", "ticket__kind", "ticket__title").order_by("-id")[:3]
    )
    # Posts on walls an agent reads (people, services, tags, tickets); community walls are the
    # communities provider's to decide.
    posts = list(
        Post.objects.filter(author=person, wall_type__in=("user", "service", "tag", "ticket"), deleted_at__isnull=True)
        .only("id", "body", "created_at", "wall_type", "wall_key").order_by("-id")[:3]
    )
    extra = {name: provider(viewer, person) for name, provider in _social_more_providers.items()}
    return SocialMore(person=person, ratings=ratings, recent_posts=posts, extra=extra)


def services_active() -> QuerySet[Service]:
    return Service.objects.filter(active=True).select_related("owner_team").order_by("name")


def teams() -> QuerySet[Team]:
    return Team.objects.order_by("name")


def saved_views_for(*, user: User) -> QuerySet[SavedView]:
    return SavedView.objects.filter(owner=user).order_by("name")


def agent_choices() -> list[tuple[str, str]]:
    """(username, display name) of every active agent: the queue's assignee choices."""
    return [(agent.username, agent.display_name) for agent in agents_offered()]


def agents() -> QuerySet[User]:
    return User.objects.filter(role__in=STAFF_ROLES, is_active=True).order_by("display_name")


class AgentChoice(NamedTuple):
    """An agent as a page's pickers and assignee suggestions show one. A page offers every agent, so
    it reads plain rows: building a hundred model instances cost more than the query."""

    id: int
    username: str
    display_name: str
    team_id: int | None
    expertise_tags: list
    role: str
    is_active: bool

    @property
    def pk(self) -> int:
        return self.id


# The pickers' lists, read on every ticket and queue page: fixed queries, compiled once.
@prepared(args=())
def _agents_query():
    # What the pickers and the suggestions read; anything else loads when a service asks for it.
    return agents().only(*AgentChoice._fields)


@prepared(args=())
def _agent_rows_query():
    return agents().values_list(*AgentChoice._fields)


def agents_offered() -> list[AgentChoice]:
    """The active agents for a page to offer (`agents_list` gives the users, for a change to apply)."""
    return [AgentChoice._make(row) for row in _agent_rows_query.run()]


@prepared(args=())
def _teams_query():
    return teams()


@prepared(args=())
def _services_query():
    return services_active()


def agents_list() -> list[User]:
    return _agents_query.run()


def teams_list() -> list[Team]:
    return _teams_query.run()


def services_list() -> list[Service]:
    """The active services, each with its owner team."""
    return _services_query.run()


SUGGESTED_ASSIGNEES = 3
_WORD_RE = re.compile(r"\w+")


@dataclass(frozen=True)
class SuggestedAssignee:
    agent: User
    tags: list[str]  # the agent's expertise tags that the ticket's words match


def _stem(word: str) -> str:
    """Enough stemming to match "printers" with "printer" and "proxies" with "proxy"."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _stems(text: str) -> set[str]:
    return {_stem(word) for word in _WORD_RE.findall(text.lower())}


def suggested_assignees(*, ticket: Ticket, agents_list: list[User | AgentChoice] | None = None,
                        limit: int = SUGGESTED_ASSIGNEES) -> list[SuggestedAssignee]:
    """Up to `limit` active agents whose expertise tags match whole words (lightly stemmed, any case)
    of the ticket's title, description or service name, each with the tags that matched: those of the
    ticket's team first, then the most tags matched, then by name. A tag of several words matches when
    all its words are there. The current assignee is left out.

    The ticket page already reads every agent for its assignee select and passes them in, so the
    suggestions cost no query there; without them, one query reads the agents."""
    words = _stems(" ".join([ticket.title, ticket.description, ticket.service.name if ticket.service_id else ""]))
    if agents_list is None:
        agents_list = agents_offered()
    found = []
    for agent in agents_list:
        if not agent.is_active or agent.role not in STAFF_ROLES or agent.pk == ticket.assignee_id:
            continue
        tags = [tag for tag in agent.expertise_tags or [] if (stems := _stems(tag)) and stems <= words]
        if tags:
            found.append(SuggestedAssignee(agent=agent, tags=tags))
    found.sort(key=lambda s: (not (ticket.team_id and s.agent.team_id == ticket.team_id), -len(s.tags),
                              (s.agent.display_name or s.agent.username).lower()))
    return found[:limit]


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
    sla = (params.get("sla") or "").lower()
    if sla == "soon":
        f.due_soon = True
    elif sla == "breached":
        f.breached = True
    elif sla:
        errors["sla"] = ["Use soon or breached, or leave it out."]
    f.q = (params.get("q") or "").strip()
    sort = params.get("sort") or "-id"
    if sort not in SORTS:
        errors["sort"] = [f"Sort by one of {', '.join(SORTS)}."]
    else:
        f.sort = sort
    return f, errors


# --- the agent's tools on the ticket page ------------------------------------------------------


def canned_responses_for(*, user: User) -> list[CannedResponse]:
    """The agent's own snippets and those shared with their team."""
    if not is_staff(user):
        return []
    if user.team_id:
        return _canned_mine_and_team.run(user_id=user.pk, team_id=user.team_id)
    return _canned_mine.run(user_id=user.pk)


@prepared(args=("user_id", "team_id"))
def _canned_mine_and_team(*, user_id, team_id):
    return CannedResponse.objects.filter(Q(owner_id=user_id) | Q(team_id=team_id)).order_by("title", "id")


@prepared(args=("user_id",))
def _canned_mine(*, user_id):
    return CannedResponse.objects.filter(owner_id=user_id).order_by("title", "id")


def canned_response_get(*, user: User, response_id) -> CannedResponse:
    try:
        response_id = int(response_id)
    except (TypeError, ValueError):
        raise NotVisible() from None
    for response in canned_responses_for(user=user):
        if response.pk == response_id:
            return response
    raise NotVisible()


_PLACEHOLDER_RE = re.compile(r"\{(requester|ticket|agent)\.([a-z_]+)\}")


def _first_name(person: User | None) -> str:
    if person is None:
        return ""
    return person.first_name or (person.display_name or person.username).split(" ")[0]


def canned_text(*, response: CannedResponse, ticket: Ticket, agent: User) -> str:
    """The snippet with its placeholders filled in; an unknown placeholder stays as written."""
    values = {
        ("requester", "first_name"): _first_name(ticket.requester),
        ("requester", "name"): ticket.requester.display_name or ticket.requester.username,
        ("requester", "username"): ticket.requester.username,
        ("ticket", "number"): ticket.number,
        ("ticket", "title"): ticket.title,
        ("ticket", "status"): ticket.get_status_display(),
        ("ticket", "service"): ticket.service.name if ticket.service_id else "",
        ("agent", "first_name"): _first_name(agent),
        ("agent", "name"): agent.display_name or agent.username,
    }
    return _PLACEHOLDER_RE.sub(lambda m: values.get((m.group(1), m.group(2)), m.group(0)), response.body)


def ticket_find(*, user: User, text: str, exclude: int | None = None, kind: str | None = None,
                limit: int = 8) -> list[Ticket]:
    """Tickets to link or merge, by number ("INC-000042" or "42") or by words."""
    text = (text or "").strip()[:200]
    if not text:
        return []
    qs = visible_tickets(user).defer("description", "description_html", "search_vector")
    if kind:
        qs = qs.filter(kind=kind)
    if exclude:
        qs = qs.exclude(pk=exclude)
    if text.isdecimal():
        return list(qs.filter(pk=int(text))[:1])
    if len(text) < 3:
        return []
    return list(search(qs, text)[:limit])


# --- the agent queue's views ---------------------------------------------------------------------

# Counts beside the queue's views stop here: "999+" is as useful to an agent as the exact figure,
# and a capped count reads at most this many index entries whatever the backlog.
QUEUE_COUNT_CAP = 999
# The query parameters that choose which tickets a view holds (sort and search only order or narrow).
QUEUE_VIEW_KEYS = ("status", "priority", "team", "service", "assignee", "breached", "sla")


@dataclass
class QueueView:
    key: str
    label: str
    params: dict[str, str]
    saved: object = None  # the SavedView behind a saved view
    count: int | None = None  # capped at QUEUE_COUNT_CAP + 1; None when the view's filters are not understood
    url: str = ""  # set by the page: the queue's address for this view
    current: bool = False  # set by the page: the filters on screen are this view's

    @property
    def count_label(self) -> str:
        if self.count is None:
            return "\u2013"
        return f"{QUEUE_COUNT_CAP}+" if self.count > QUEUE_COUNT_CAP else str(self.count)


QUEUE_ROW_FIELDS = (
    "id", "kind", "title", "status", "priority", "requester", "assignee", "updated_at",
    "resolution_due_at", "resolution_breached_at", "sla_paused_at",
    "requester__id", "requester__username", "requester__display_name",
    "assignee__id", "assignee__username", "assignee__display_name",
)


def queue_list(*, user: User, filters: TicketFilters) -> QuerySet[Ticket]:
    """The queue's rows: a ticket list with just what a row shows (no team or service join)."""
    qs = ticket_list(user=user, filters=filters)
    return qs.select_related(None).select_related("requester", "assignee").only(*QUEUE_ROW_FIELDS)


def queue_filters(params, *, user: User) -> tuple[TicketFilters, dict[str, list[str]]]:
    """The queue's reading of a query string: no status means the open ones ("open" too), "all"
    means any; no sort means the next SLA due first. Filters not understood fall back to these
    defaults and are returned as errors."""
    params = params.copy()
    status = params.get("status", "open")
    if status in ("", "open"):
        params.setlist("status", list(OPEN_STATUSES))
    elif status == "all":
        params.pop("status")
    if not params.get("sort"):
        params["sort"] = "due"
    filters, errors = parse_filters(params, user=user)
    defaults = TicketFilters(status=list(OPEN_STATUSES), sort="due")
    for name in errors:
        if hasattr(defaults, name):
            setattr(filters, name, getattr(defaults, name))
    return filters, errors


def queue_views(*, user: User) -> list[QueueView]:
    """The views down the queue's side: the built-in ones, then the agent's saved views."""
    unassigned = {"assignee": "none"}
    if user.team_id:
        unassigned["team"] = str(user.team_id)
    views = [
        QueueView("mine", "My open", {"assignee": "me"}),
        QueueView("unassigned", "Unassigned in my team" if user.team_id else "Unassigned", unassigned),
        QueueView("soon", "About to breach", {"sla": "soon"}),
        QueueView("breached", "Breached", {"sla": "breached"}),
        QueueView("waiting", "Waiting on requester", {"status": Status.PENDING}),
        QueueView("open", "All open", {}),
    ]
    for saved in saved_views_for(user=user):
        views.append(QueueView(f"saved-{saved.pk}", saved.name, {k: str(v) for k, v in saved.query.items()}, saved=saved))
    return views


def queue_view_key(params) -> tuple:
    """What a view is, for telling which one a query string shows: its filters, "open" spelt out."""
    pairs = {k: params.get(k) for k in QUEUE_VIEW_KEYS if params.get(k)}
    if pairs.get("status") == "open":
        pairs.pop("status")
    if str(pairs.pop("breached", "")).lower() in ("true", "1", "yes", "on"):
        pairs["sla"] = "breached"
    return tuple(sorted(pairs.items()))


# The statement that counts an agent's views depends only on who the agent is and which views
# they have; building it through the ORM costs more than running it, so each process keeps the
# latest ones.
_COUNTS_SQL: dict[tuple, tuple[str, tuple, tuple[int, ...]]] = {}
_COUNTS_SQL_KEEP = 1024


def _counts_statement(user: User, views: list[QueueView]) -> tuple[str, tuple, tuple[int, ...]]:
    from django.http import QueryDict

    from django.conf import settings

    key = (
        user.pk, user.role, user.team_id, QUEUE_COUNT_CAP, settings.SLA_WARNING_MINUTES,
        tuple((v.key, tuple(sorted(v.params.items()))) for v in views),
    )
    if key in _COUNTS_SQL:
        return _COUNTS_SQL[key]
    parts, args, counted = [], [], []
    for index, view in enumerate(views):
        query = QueryDict(mutable=True)
        for name, value in view.params.items():
            query[name] = value
        filters, errors = queue_filters(query, user=user)
        if errors:
            continue
        filters.q, filters.sort = "", "-id"
        ids = ticket_list(user=user, filters=filters).order_by().values_list("pk", flat=True)[:QUEUE_COUNT_CAP + 1]
        sql, params = ids.query.sql_with_params()
        parts.append(f"(SELECT count(*) FROM ({sql}) AS view_{index})")
        args.extend(params)
        counted.append(index)
    statement = ("SELECT " + ", ".join(parts) if parts else "", tuple(args), tuple(counted))
    if len(_COUNTS_SQL) >= _COUNTS_SQL_KEEP:
        _COUNTS_SQL.clear()
    _COUNTS_SQL[key] = statement
    return statement


def queue_counts(*, user: User, views: list[QueueView]) -> list[QueueView]:
    """Fill in each view's count, capped, in one query whatever the number of views. A view
    whose filters are not understood (a saved view from older rules) gets no count."""
    sql, args, counted = _counts_statement(user, views)
    for view in views:
        view.count = None
    if sql:
        with connection.cursor() as cursor:
            cursor.execute(sql, args)
            for index, count in zip(counted, cursor.fetchone()):
                views[index].count = count
    return views


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
