"""Reads of people's standing. Points, levels, badges, leaderboards, influence and quest
progress all derive from the points ledger."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Count, Q, Sum
from django.utils import timezone

from accounts.models import Team, User
from communities.models import Community, Membership
from communities.selectors import can_read, readable_community_ids
from feeds import walls
from feeds.models import Post
from servicedesk.errors import ApplicationError, Forbidden, NotVisible
from servicedesk.prepared import prepared
from tickets.selectors import visible_tickets

from . import defaults, leaderboard
from .models import BadgeAward, Bounty, Campaign, PointEntry, Rule

TIER_ORDER = {"bronze": 1, "silver": 2, "gold": 3}


@dataclass(frozen=True)
class Standing:
    points: int = 0
    level: int = 1
    badges: list[dict] = field(default_factory=list)
    level_name: str = defaults.LEVELS[0][1]
    next_level_at: int | None = defaults.LEVELS[1][0]


def level_for(points: int) -> tuple[int, str, int | None]:
    """(level, its name, points needed for the next level or None at the top)."""
    level = 1
    for i, (threshold, _) in enumerate(defaults.LEVELS, start=1):
        if points >= threshold:
            level = i
    nxt = defaults.LEVELS[level][0] if level < len(defaults.LEVELS) else None
    return level, defaults.LEVELS[level - 1][1], nxt


def _badge_dict(award: BadgeAward) -> dict:
    return {"slug": award.badge.slug, "name": award.badge.name, "tier": award.tier, "awarded_at": award.awarded_at}


def standing_for(users: Iterable) -> dict[int, Standing]:
    """Standing of each user, in two reads whatever the number of users."""
    ids = [u.pk for u in users]
    if not ids:
        return {}
    if len(ids) == 1:  # one person (beside a ticket, on a profile): fixed queries, compiled once
        totals = {row["user_id"]: row["total"] for row in _points_of.run(user_id=ids[0])}
        awards = _awards_of.run(user_id=ids[0])
    else:
        totals = dict(PointEntry.objects.filter(user_id__in=ids).values("user_id").annotate(total=Sum("points"))
                      .values_list("user_id", "total"))
        awards = BadgeAward.objects.filter(user_id__in=ids).select_related("badge").order_by("awarded_at", "id")
    badges: dict[int, dict[str, BadgeAward]] = {pk: {} for pk in ids}
    for award in awards:
        best = badges[award.user_id].get(award.badge.slug)
        if best is None or TIER_ORDER[award.tier] > TIER_ORDER[best.tier]:
            badges[award.user_id][award.badge.slug] = award  # one badge shows at its highest tier
    out = {}
    for pk in ids:
        points = totals.get(pk) or 0
        level, name, nxt = level_for(points)
        shown = sorted(badges[pk].values(), key=lambda a: (-TIER_ORDER[a.tier], a.badge.name))
        out[pk] = Standing(points=points, level=level, badges=[_badge_dict(a) for a in shown], level_name=name, next_level_at=nxt)
    return out


@prepared(args=("user_id",))
def _points_of(*, user_id):
    return PointEntry.objects.filter(user_id=user_id).values("user_id").annotate(total=Sum("points")).values("user_id", "total")


@prepared(args=("user_id",))
def _awards_of(*, user_id):
    return BadgeAward.objects.filter(user_id=user_id).select_related("badge").order_by("awarded_at", "id")


def achievements(user: User) -> dict:
    standing = standing_for([user])[user.pk]
    awards = BadgeAward.objects.filter(user=user).select_related("badge").order_by("-awarded_at", "-id")
    return {
        "points": standing.points,
        "level": standing.level,
        "level_name": standing.level_name,
        "next_level_at": standing.next_level_at,
        "badges": [_badge_dict(a) for a in awards],
    }


def recent_badges(user: User, limit: int = 5) -> list[BadgeAward]:
    return list(BadgeAward.objects.filter(user=user).select_related("badge").order_by("-awarded_at", "-id")[:limit])


# --- influence ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Influence:
    score: int
    lines: list[str]
    people: int


def influence_of(user: User, *, now=None) -> Influence:
    """How others engage with a person's contributions over the last 90 days (not followers).

    Each kind of engagement has a weight; one person counts at most three times per kind, so a
    friend clicking everything does not make anyone influential; breadth (how many different
    people engaged) adds on top. The lines explain the score.
    """
    now = now or timezone.now()
    since = now - timedelta(days=defaults.INFLUENCE_WINDOW_DAYS)
    base = PointEntry.objects.filter(
        user=user, rule__slug__in=defaults.INFLUENCE_WEIGHTS, earned_at__gte=since, points__gt=0, actor__isnull=False,
        reversal_of__isnull=True, reversed_by__isnull=True,
    )
    per_rule: dict[str, dict] = {}
    engaged: set[int] = set()
    for row in base.values("rule__slug", "rule__name", "actor_id").annotate(n=Count("id")).order_by():
        r = per_rule.setdefault(row["rule__slug"], {"name": row["rule__name"], "n": 0, "counted": 0, "people": 0})
        r["n"] += row["n"]
        r["counted"] += min(row["n"], defaults.INFLUENCE_PER_PERSON)
        r["people"] += 1
        engaged.add(row["actor_id"])
    people = len(engaged)
    score, lines = 0, []
    for slug, r in sorted(per_rule.items(), key=lambda item: -defaults.INFLUENCE_WEIGHTS[item[0]]):
        weight = defaults.INFLUENCE_WEIGHTS[slug]
        score += weight * r["counted"]
        capped = f" (capped at {r['counted']})" if r["counted"] < r["n"] else ""
        lines.append(
            f"{r['name']}: {r['n']} from {r['people']} {'person' if r['people'] == 1 else 'people'}"
            f"{capped} \u00d7 {weight} = {weight * r['counted']}"
        )
    if people:
        breadth = people * defaults.INFLUENCE_BREADTH_WEIGHT
        score += breadth
        lines.append(f"Breadth: {people} different {'person' if people == 1 else 'people'} engaged "
                     f"\u00d7 {defaults.INFLUENCE_BREADTH_WEIGHT} = {breadth}")
    return Influence(score=score, lines=lines, people=people)


INFLUENCE_CACHE_SECONDS = 600


def influence_cached(user: User) -> Influence:
    """influence_of, remembered for a few minutes: it reads 90 days of the ledger, and the ticket
    page shows it for every requester."""
    from django.core.cache import cache

    key = f"influence:{user.pk}"
    found = cache.get(key)
    if isinstance(found, Influence):
        return found
    found = influence_of(user)
    cache.set(key, found, INFLUENCE_CACHE_SECONDS)
    return found


# --- the ledger --------------------------------------------------------------------------------


def can_read_ledger(viewer: User, user: User) -> bool:
    """Your own ledger is yours; managers and admins read everyone's (they run the game).
    Anyone else sees points, level and badges, not the entries (which name private tickets)."""
    return viewer.pk == user.pk or getattr(viewer, "is_manager", False)


def ledger_for(*, viewer: User, username: str | None):
    if not username or username == viewer.username:
        user = viewer
    else:
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise NotVisible()
        if not can_read_ledger(viewer, user):
            raise Forbidden("Only the person and managers read someone's points ledger.")
    return PointEntry.objects.filter(user=user).select_related("rule", "campaign")


PRIVATE_COMMUNITY_LABEL = "in a private community"
PRIVATE_ITEM_LABEL = "something you cannot see"


def hidden_sources(*, viewer: User, entries: Iterable[PointEntry]) -> dict[int, str]:
    """{entry id: neutral label} for the entries whose source `viewer` may not see now.

    Someone else's ledger (a manager reading it) names what each point was for; titles and
    reasons of a private community's content, a private ticket or a post on a wall out of sight
    must not show through it. The person's own ledger follows the same rule: once removed from a
    community its titles are out of sight for them too."""
    entries = list(entries)
    community_ids = {e.community_id for e in entries if e.community_id}
    readable = set(
        readable_community_ids(viewer).filter(pk__in=community_ids).values_list("pk", flat=True)
    ) if community_ids else set()
    ticket_ids = {e.source_id for e in entries if not e.community_id and e.source_type == "ticket"}
    tickets = set(visible_tickets(viewer).filter(pk__in=ticket_ids).values_list("pk", flat=True)) if ticket_ids else set()
    post_ids = {e.source_id for e in entries if not e.community_id and e.source_type == "post"}
    seen_walls: dict[tuple[str, str], bool] = {}
    posts_visible: set[int] = set()
    for post_id, wall_type, wall_key in Post.objects.filter(pk__in=post_ids).values_list("pk", "wall_type", "wall_key"):
        if (wall_type, wall_key) not in seen_walls:
            try:
                walls.resolve(viewer, wall_type, wall_key)
                seen_walls[(wall_type, wall_key)] = True
            except (NotVisible, ApplicationError):
                seen_walls[(wall_type, wall_key)] = False
        if seen_walls[(wall_type, wall_key)]:
            posts_visible.add(post_id)
    hidden = {}
    for e in entries:
        if e.community_id:
            if e.community_id not in readable:
                hidden[e.pk] = PRIVATE_COMMUNITY_LABEL
        elif e.source_type == "ticket" and e.source_id not in tickets:
            hidden[e.pk] = PRIVATE_ITEM_LABEL
        elif e.source_type == "post" and e.source_id not in posts_visible:
            hidden[e.pk] = PRIVATE_ITEM_LABEL
    return hidden


def source_url(entry: PointEntry) -> str:
    return {
        "ticket": f"/tickets/{entry.source_id}/",
        "article": f"/articles/{entry.source_id}/",
        "post": f"/posts/{entry.source_id}/",
        "campaign": f"/campaigns/{entry.source_id}/",
    }.get(entry.source_type, "")


def bounty_of(ticket) -> tuple[Bounty | None, PointEntry | None]:
    """The bounty on a problem and the ledger entry that paid it out, if someone collected it
    (a reopened problem's payout was reversed, so it shows as not collected again)."""
    bounty = Bounty.objects.select_related("created_by").filter(ticket_id=ticket.pk).first()
    if bounty is None:
        return None, None
    collected = (
        PointEntry.objects.select_related("user")
        .filter(rule__slug="bounty", source_type="ticket", source_id=ticket.pk, reversal_of__isnull=True,
                reversed_by__isnull=True)
        .order_by("-id").first()
    )
    return bounty, collected


def recent_entries(user: User, limit: int = 8) -> list[PointEntry]:
    return list(PointEntry.objects.filter(user=user).select_related("rule").order_by("-id")[:limit])


# --- leaderboards ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Board:
    period: str
    scope: str  # as asked: "global", "team:3", "community:vpn-help"
    title: str
    results: list[dict]
    me: dict


def scope_resolve(viewer: User, scope: str) -> tuple[str, str]:
    """("team:3" / "community:<id>" / "global", a title). Bad input → 400; a private community
    the viewer is not in, or a team or community that does not exist → 404."""
    scope = (scope or "global").strip()
    if scope == "global":
        return "global", "Everyone"
    kind, _, key = scope.partition(":")
    if kind == "team":
        if not key.isdecimal():
            raise ApplicationError("Unknown scope.", errors={"scope": ["Use global, team:<id> or community:<slug>."]})
        team = Team.objects.filter(pk=int(key)).first()
        if team is None:
            raise NotVisible()
        return f"team:{team.pk}", team.name
    if kind == "community" and key:
        community = Community.objects.filter(slug=key).first()
        if community is None or not can_read(viewer, community):
            raise NotVisible()
        return f"community:{community.pk}", community.name
    raise ApplicationError("Unknown scope.", errors={"scope": ["Use global, team:<id> or community:<slug>."]})


def board(*, viewer: User, period: str = "week", scope: str = "global", limit: int = 50) -> Board:
    if period not in leaderboard.PERIODS:
        raise ApplicationError("Unknown period.", errors={"period": ["Use week, month or all."]})
    internal, title = scope_resolve(viewer, scope)
    rows, me = leaderboard.top(period=period, scope=internal, limit=limit, user_id=viewer.pk)
    names = {
        pk: (username, display_name)
        for pk, username, display_name in User.objects.filter(pk__in=[r.user_id for r in rows]).values_list(
            "pk", "username", "display_name")
    } if rows else {}
    results = []
    for r in rows:
        if r.user_id not in names:
            continue
        username, display_name = names[r.user_id]
        results.append({"rank": r.rank, "user": {"username": username, "display_name": display_name},
                        "points": r.points, "is_me": r.user_id == viewer.pk})
    return Board(period=period, scope=scope or "global", title=title, results=results,
                 me={"rank": me.rank if me else None, "points": me.points if me else 0})


# --- campaigns ---------------------------------------------------------------------------------


def campaigns_visible(viewer: User):
    """Campaigns are announced to everyone signed in, except those narrowed to a private
    community, which only its members (and managers) see."""
    qs = Campaign.objects.select_related("rule", "service", "community", "created_by")
    if getattr(viewer, "is_manager", False):
        return qs
    mine = Membership.objects.filter(user=viewer).values("community_id")
    return qs.filter(Q(community__isnull=True) | Q(community__visibility="open") | Q(community_id__in=mine))


def campaign_get(*, viewer: User, campaign_id) -> Campaign:
    campaign = campaigns_visible(viewer).filter(pk=campaign_id).first()
    if campaign is None:
        raise NotVisible()
    return campaign


def campaign_progress(campaign: Campaign, *, limit: int = 20, viewer: User | None = None) -> dict:
    """Who has done how much of what the campaign counts, with the goal if it is a quest."""
    from .services import _campaign_entries

    qs = _campaign_entries(campaign)
    rows = list(qs.values("user_id").annotate(n=Count("id"), pts=Sum("points")).order_by("-n", "user_id")[:limit])
    people = User.objects.in_bulk([r["user_id"] for r in rows]) if rows else {}
    goal = campaign.goal
    top_n = max([r["n"] for r in rows] + [goal, 1])
    participants = []
    for r in rows:
        person = people.get(r["user_id"])
        if person is None:
            continue
        participants.append({
            "user": person, "count": r["n"], "points": r["pts"], "done": bool(goal) and r["n"] >= goal,
            "percent": min(100, round(100 * r["n"] / (goal or top_n))),
        })
    mine = None
    if viewer is not None:
        n = qs.filter(user=viewer).count()
        mine = {"count": n, "percent": min(100, round(100 * n / goal)) if goal else None, "done": bool(goal) and n >= goal}
    return {"participants": participants, "goal": goal, "scale": goal or top_n, "mine": mine}


def rules_all():
    return Rule.objects.order_by("slug")


def points_this_week(user: User, *, now=None) -> int:
    """Points earned since Monday 00:00 UTC (reversals included): one query."""
    from datetime import UTC

    now = (now or timezone.now()).astimezone(UTC)
    monday = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    return PointEntry.objects.filter(user=user, created_at__gte=monday).aggregate(n=Sum("points"))["n"] or 0
