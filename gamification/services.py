"""Every write to the points ledger, rules, badges, campaigns, bounties and desk visits.

Other domains call the event functions below (`ticket_resolved`, `answer_voted`, ...) inside the
transaction of their own write. Each decides who earns what, writes ledger entries, and on
commit updates the leaderboards and tells open leaderboard pages that points changed.

Anti-gaming, in one place:
- nobody earns from acting on their own content (`actor` is the earner: nothing is written);
- each rule has a daily cap in points per person;
- undoing the cause (reopen, unlike, un-accept) reverses the entries it paid, as new negative
  entries that reference the originals; nothing is ever deleted;
- more than `PAIR_LIMIT` engagements between the same two people within `PAIR_WINDOW_DAYS`
  (either direction) are reversed as repeated votes, visibly, in the ledger.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from accounts.models import User
from communities.models import Article, Community
from communities.selectors import is_barred
from feeds.audience import SIGNED_IN, Audience
from feeds.services import NotificationSpec, ObjectRef, activity_publish
from servicedesk.errors import ApplicationError, Forbidden, NotVisible
from tickets.models import Comment, Kind, Status
from tickets.selectors import can_see, is_staff
from tickets.services import ticket_audience, ticket_ref

from . import defaults, leaderboard, live
from .models import Badge, BadgeAward, Bounty, Campaign, DeskVisit, PointEntry, Rule

logger = logging.getLogger(__name__)

HASHTAG_RE = re.compile(r"(?<![\w&#])#([A-Za-z0-9][A-Za-z0-9_\-]{0,49})")


@dataclass(frozen=True)
class Source:
    """What an entry is about, and the scopes it counts in."""

    type: str
    id: int
    title: str = ""
    community_id: int | None = None
    service_id: int | None = None
    tags: tuple[str, ...] = ()

    @property
    def tag_field(self) -> str:
        return "," + ",".join(sorted(set(self.tags)))[:250] + "," if self.tags else ""


def tags_in(*texts: str) -> tuple[str, ...]:
    return tuple(sorted({t.lower() for text in texts for t in HASHTAG_RE.findall(text or "")}))


# --- rules -------------------------------------------------------------------------------------


def rule_get(slug: str) -> Rule:
    """The rule, recreated from its default if someone removed it."""
    rule = Rule.objects.filter(slug=slug).first()
    if rule is None:
        rules_ensure_defaults()
        rule = Rule.objects.get(slug=slug)
    return rule


def rules_ensure_defaults() -> None:
    """Create whatever default rule or badge is missing; never touch edited ones."""
    rules = {}
    for slug, (name, points, cap, description) in defaults.RULES.items():
        rules[slug], _ = Rule.objects.get_or_create(
            slug=slug, defaults={"name": name, "points": points, "daily_cap": cap, "description": description}
        )
    for slug, (name, rule_slug, kind, bronze, silver, gold, description) in defaults.BADGES.items():
        Badge.objects.get_or_create(slug=slug, defaults={
            "name": name, "rule": rules[rule_slug], "kind": kind, "bronze": bronze, "silver": silver, "gold": gold,
            "description": description,
        })


def _require_manager(actor: User) -> None:
    if not getattr(actor, "is_manager", False):
        raise Forbidden("Only managers and admins do this.")


@transaction.atomic
def rule_update(*, actor: User, rule: Rule, points: int | None = None, daily_cap: int | None = None,
                active: bool | None = None) -> Rule:
    _require_manager(actor)
    rule = Rule.objects.select_for_update().get(pk=rule.pk)
    errors = {}
    if points is not None and (not isinstance(points, int) or isinstance(points, bool) or not -1000 <= points <= 1000):
        errors["points"] = ["Give a whole number from -1000 to 1000."]
    if daily_cap is not None and (not isinstance(daily_cap, int) or isinstance(daily_cap, bool) or not 0 <= daily_cap <= 100000):
        errors["daily_cap"] = ["Give a whole number from 0 (no cap) to 100000."]
    if errors:
        raise ApplicationError("The rule was not changed.", errors=errors)
    fields = ["updated_by", "updated_at"]
    for name, value in (("points", points), ("daily_cap", daily_cap), ("active", active)):
        if value is not None:
            setattr(rule, name, value)
            fields.append(name)
    rule.updated_by = actor
    rule.save(update_fields=fields)
    return rule


# --- the ledger --------------------------------------------------------------------------------


def _live(qs):
    """Original entries that have not been reversed."""
    return qs.filter(reversal_of__isnull=True, reversed_by__isnull=True)


def _campaign_for(rule: Rule, source: Source, now: datetime) -> Campaign | None:
    """The active campaign with the highest multiplier on this rule whose narrowing matches."""
    best = None
    for campaign in Campaign.objects.filter(rule=rule, starts_at__lte=now, ends_at__gt=now).order_by("-multiplier", "id"):
        if campaign.service_id and campaign.service_id != source.service_id:
            continue
        if campaign.community_id and campaign.community_id != source.community_id:
            continue
        if campaign.tag and campaign.tag.lower() not in source.tags:
            continue
        if best is None or campaign.multiplier > best.multiplier:
            best = campaign
    return best


def _removed_from(user: User, community_id: int) -> bool:
    return is_barred(user, community_id)


def _award(*, user: User | None, rule_slug: str, source: Source, reason: str, actor: User | None = None,
           points: int | None = None, now: datetime | None = None) -> PointEntry | None:
    """Credit `user` for an event, once while it stands. Returns the entry, or None when the rule
    pays nothing here (own content, inactive rule, cap reached, already paid)."""
    if user is None or not user.is_active:
        return None
    if actor is not None and actor.pk == user.pk:
        return None
    if source.community_id and _removed_from(user, source.community_id):
        return None
    now = now or timezone.now()
    rule = rule_get(rule_slug)
    if not rule.active:
        return None
    same = PointEntry.objects.filter(user=user, rule=rule, source_type=source.type, source_id=source.id, actor=actor)
    if _live(same).exists():
        return None
    amount = rule.points if points is None else points
    campaign = None
    if amount > 0:
        campaign = _campaign_for(rule, source, now)
        if campaign is not None:
            amount = int((Decimal(amount) * campaign.multiplier).to_integral_value())
        if rule.daily_cap:
            day = now.replace(hour=0, minute=0, second=0, microsecond=0)
            today = PointEntry.objects.filter(
                user=user, rule=rule, created_at__gte=day, reversal_of__isnull=True, points__gt=0
            ).aggregate(s=Sum("points"))["s"] or 0
            amount = min(amount, rule.daily_cap - today)
            if amount <= 0:
                return None
    if amount == 0:
        return None
    sequence = same.filter(reversal_of__isnull=True).count()
    entry = PointEntry(
        user=user, points=amount, rule=rule, reason=reason[:255], actor=actor, source_type=source.type,
        source_id=source.id, source_title=source.title[:255], campaign=campaign, team_id=user.team_id,
        community_id=source.community_id, service_id=source.service_id, tags=source.tag_field,
        key=f"{rule.slug}:{source.type}:{source.id}:{user.pk}:{actor.pk if actor else 0}:{sequence}",
        created_at=now, earned_at=now,
    )
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError:
        return None  # the same event is being paid concurrently
    _written([entry])
    if rule.slug in defaults.ENGAGEMENT_RULES and actor is not None:
        if _pair_check(entry):
            return None
    if entry.points > 0:
        _badges_check(user, rule, now)
        _quests_check(user, rule, now)
    return entry


def _reverse(entry: PointEntry, reason: str, *, now: datetime | None = None) -> PointEntry | None:
    now = now or timezone.now()
    reversal = PointEntry(
        user_id=entry.user_id, points=-entry.points, rule_id=entry.rule_id, reason=f"Reversed: {reason}"[:255],
        actor_id=entry.actor_id, source_type=entry.source_type, source_id=entry.source_id,
        source_title=entry.source_title, campaign_id=entry.campaign_id, team_id=entry.team_id,
        community_id=entry.community_id, service_id=entry.service_id, tags=entry.tags, reversal_of=entry,
        key=f"reversal:{entry.pk}", created_at=now, earned_at=entry.earned_at,
    )
    try:
        with transaction.atomic():
            reversal.save()
    except IntegrityError:
        return None  # already reversed
    _written([reversal])
    return reversal


def _reverse_where(reason: str, **filters) -> list[PointEntry]:
    entries = list(_live(PointEntry.objects.select_for_update(of=("self",)).filter(**filters)).order_by("id"))
    reversals = [r for r in (_reverse(e, reason) for e in entries) if r is not None]
    users = {e.user_id for e in entries}
    if reversals:
        rule_ids = {e.rule_id for e in entries}
        for user in User.objects.filter(pk__in=users):
            for rule in Rule.objects.filter(pk__in=rule_ids):
                _quests_recheck(user, rule)
    return reversals


def _written(entries: list[PointEntry]) -> None:
    rows = [(e.user_id, e.points, e.earned_at, e.team_id, e.community_id) for e in entries]
    scopes = sorted({s for e in entries for s in leaderboard.scopes_of(team_id=e.team_id, community_id=e.community_id)})

    def after_commit():
        leaderboard.apply(rows)
        live.points_changed(scopes)

    transaction.on_commit(after_commit)


def _pair_check(entry: PointEntry) -> bool:
    """Reverse `entry` if the two people already engaged with each other too often lately."""
    since = entry.created_at - timedelta(days=defaults.PAIR_WINDOW_DAYS)
    a, b = entry.actor_id, entry.user_id
    pair = PointEntry.objects.filter(
        Q(actor_id=a, user_id=b) | Q(actor_id=b, user_id=a),
        rule__slug__in=defaults.ENGAGEMENT_RULES, created_at__gte=since, points__gt=0,
    )
    if _live(pair).count() <= defaults.PAIR_LIMIT:
        return False
    names = dict(User.objects.filter(pk__in=[a, b]).values_list("pk", "username"))
    _reverse(entry, f"repeated votes between {names.get(a)} and {names.get(b)}")
    return True


# --- badges ------------------------------------------------------------------------------------


def _streak_days(user: User, rule: Rule, now: datetime, longest_needed: int) -> int:
    since = now - timedelta(days=longest_needed + 1)
    days = {
        d.date() for d in _live(PointEntry.objects.filter(user=user, rule=rule, earned_at__gte=since)).values_list("earned_at", flat=True)
    }
    streak, day = 0, now.date()
    while day in days:
        streak += 1
        day -= timedelta(days=1)
    return streak


def _badges_check(user: User, rule: Rule, now: datetime) -> list[BadgeAward]:
    badges = list(Badge.objects.filter(rule=rule))
    if not badges:
        return []
    have = set(BadgeAward.objects.filter(user=user, badge__in=badges).values_list("badge_id", "tier"))
    count = None
    awarded = []
    for badge in badges:
        missing = [(t, v) for t, v in badge.tiers() if (badge.pk, t) not in have]
        if not missing:
            continue
        if badge.kind == Badge.Kind.STREAK:
            value = _streak_days(user, rule, now, max(v for _, v in missing))
        else:
            if count is None:
                count = _live(PointEntry.objects.filter(user=user, rule=rule, points__gt=0)).count()
            value = count
        for tier, threshold in missing:
            if value >= threshold:
                awarded.append(_badge_award(user, badge, tier))
    return [a for a in awarded if a is not None]


def _badge_award(user: User, badge: Badge, tier: str) -> BadgeAward | None:
    try:
        with transaction.atomic():
            award = BadgeAward.objects.create(user=user, badge=badge, tier=tier)
    except IntegrityError:
        return None
    text = f"You earned {badge.name} \u2014 {tier}"
    activity_publish(
        actor=None, verb="earned_badge", obj=ObjectRef("user", user.username, user.display_name),
        audience=Audience.of(users=[user.pk], groups=[SIGNED_IN]),
        summary=f"{user.display_name} earned {badge.name} \u2014 {tier}",
        notify=[user], notification=NotificationSpec(kind="gamification.badge", text=text, url=f"/people/{user.username}/"),
        data={"badge": badge.slug, "tier": tier},
    )
    return award


# --- campaigns and quests ----------------------------------------------------------------------


def _campaign_entries(campaign: Campaign):
    qs = PointEntry.objects.filter(rule_id=campaign.rule_id, earned_at__gte=campaign.starts_at, earned_at__lt=campaign.ends_at,
                                   points__gt=0)
    if campaign.service_id:
        qs = qs.filter(service_id=campaign.service_id)
    if campaign.community_id:
        qs = qs.filter(community_id=campaign.community_id)
    if campaign.tag:
        qs = qs.filter(tags__contains=f",{campaign.tag.lower()},")
    return _live(qs)


def _quests_check(user: User, rule: Rule, now: datetime) -> None:
    for campaign in Campaign.objects.filter(rule=rule, goal__gt=0, starts_at__lte=now, ends_at__gt=now):
        done = _campaign_entries(campaign).filter(user=user).count()
        if done >= campaign.goal and campaign.bonus_points:
            _award(user=user, rule_slug="quest_completed", points=campaign.bonus_points,
                   source=Source("campaign", campaign.pk, campaign.name, campaign.community_id, campaign.service_id),
                   reason=f"Completed the quest \u201c{campaign.name}\u201d", now=now)


def _quests_recheck(user: User, rule: Rule) -> None:
    """A reversal took someone back below a quest's goal: the bonus goes too."""
    for campaign in Campaign.objects.filter(rule=rule, goal__gt=0):
        if _campaign_entries(campaign).filter(user=user).count() < campaign.goal:
            for bonus in _live(PointEntry.objects.filter(user=user, rule__slug="quest_completed", source_type="campaign",
                                                         source_id=campaign.pk)):
                _reverse(bonus, f"fell below the goal of \u201c{campaign.name}\u201d")


@transaction.atomic
def campaign_create(*, actor: User, name: str, starts_at: datetime, ends_at: datetime, rule: Rule,
                    multiplier: Decimal | float | int = 1, description: str = "", tag: str = "", service=None,
                    community=None, goal: int = 0, bonus_points: int = 0) -> Campaign:
    _require_manager(actor)
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name or len(name) > 120:
        errors["name"] = ["Give a name of up to 120 characters."]
    if starts_at is None or ends_at is None or ends_at <= starts_at:
        errors["ends_at"] = ["The campaign must end after it starts."]
    elif ends_at - starts_at > timedelta(days=366):
        errors["ends_at"] = ["Campaigns last at most a year."]
    try:
        multiplier = Decimal(str(multiplier))
    except Exception:  # noqa: BLE001
        multiplier = Decimal(0)
    if not Decimal("0.1") <= multiplier <= Decimal("10"):
        errors["multiplier"] = ["Give a multiplier from 0.1 to 10."]
    if rule.slug in ("bounty", "quest_completed"):
        errors["rule"] = ["Choose a rule people earn by their work."]
    if goal < 0 or bonus_points < 0 or bonus_points > 10000:
        errors["goal"] = ["Give a goal and a bonus of 0 or more (bonus at most 10000)."]
    tag = (tag or "").strip().lstrip("#").lower()
    if tag and not re.fullmatch(r"[a-z0-9][a-z0-9_\-]{0,49}", tag):
        errors["tag"] = ["A tag is letters, digits, hyphens or underscores."]
    if errors:
        raise ApplicationError("The campaign was not created.", errors=errors)
    campaign = Campaign.objects.create(
        name=name, description=description, rule=rule, multiplier=multiplier.quantize(Decimal("0.01")),
        starts_at=starts_at, ends_at=ends_at, tag=tag, service=service, community=community, goal=goal,
        bonus_points=bonus_points, created_by=actor,
    )
    if community is not None and community.is_private:
        audience = Audience.of(users=[actor.pk], groups=[f"community:{community.slug}"])
    else:
        audience = Audience.of(users=[actor.pk], groups=[SIGNED_IN])
    activity_publish(
        actor=actor, verb="started_campaign", obj=ObjectRef("campaign", str(campaign.pk), campaign.name), audience=audience,
        summary=f"{actor.display_name} started the campaign \u201c{campaign.name}\u201d",
    )
    return campaign


# --- tickets -----------------------------------------------------------------------------------

RESOLUTION_RULES = ("ticket_resolved", "resolved_within_sla", "first_contact_resolution", "novel_problem", "bounty",
                    "satisfaction_positive", "satisfaction_negative")


def _ticket_source(ticket) -> Source:
    service_slug = (ticket.service.slug,) if ticket.service_id and ticket.service else ()
    return Source("ticket", ticket.pk, f"{ticket.number} {ticket.title}", service_id=ticket.service_id,
                  tags=tags_in(ticket.title, ticket.description) + service_slug)


def ticket_resolved(*, ticket, actor: User) -> list[PointEntry]:
    """Runs on the ticket_resolved hook, in the transaction that resolves `ticket`."""
    from .similarity import has_similar

    solver = ticket.assignee or actor
    if solver is None or not solver.is_agent or solver.pk == ticket.requester_id:
        return []  # nobody earns for fixing their own ticket
    source = _ticket_source(ticket)
    now = timezone.now()
    entries = [_award(user=solver, rule_slug="ticket_resolved", source=source, reason=f"Resolved {ticket.number}", now=now)]
    due = ticket.resolution_due_at
    if due and ticket.resolved_at and ticket.resolved_at <= due and not ticket.resolution_breached_at:
        entries.append(_award(user=solver, rule_slug="resolved_within_sla", source=source,
                              reason=f"Resolved {ticket.number} within its SLA", now=now))
    if ticket.resolution_count == 1:
        replies = Comment.objects.filter(ticket=ticket, internal=False).exclude(author_id=ticket.requester_id).count()
        if replies <= 1:
            entries.append(_award(user=solver, rule_slug="first_contact_resolution", source=source,
                                  reason=f"Resolved {ticket.number} at first contact", now=now))
    if ticket.kind in (Kind.INCIDENT, Kind.PROBLEM) and not has_similar(ticket):
        entries.append(_award(user=solver, rule_slug="novel_problem", source=source,
                              reason=f"Solved something new: {ticket.number}", now=now))
    bounty = Bounty.objects.filter(ticket=ticket).first()
    if bounty is not None:
        entries.append(_award(user=solver, rule_slug="bounty", source=source, points=bounty.points,
                              reason=f"Claimed the bounty on {ticket.number}", now=now))
    return [e for e in entries if e is not None]


def ticket_reopened(*, ticket, actor: User | None = None) -> list[PointEntry]:
    """The fix did not hold: what its resolution earned is reversed."""
    return _reverse_where(f"{ticket.number} was reopened", source_type="ticket", source_id=ticket.pk,
                          rule__slug__in=RESOLUTION_RULES)


def rating_recorded(*, rating, ticket) -> PointEntry | None:
    solver = ticket.assignee
    if solver is None:
        return None
    source = _ticket_source(ticket)
    if rating.score >= 4:
        return _award(user=solver, rule_slug="satisfaction_positive", source=source, actor=rating.rater,
                      reason=f"{ticket.number} rated {rating.score}/5")
    if rating.score <= 2:
        return _award(user=solver, rule_slug="satisfaction_negative", source=source, actor=rating.rater,
                      reason=f"{ticket.number} rated {rating.score}/5")
    return None


DEFLECTION_WINDOW = timedelta(hours=1)


def deflection_recorded(*, deflection) -> PointEntry | None:
    """Someone opened an article the portal suggested: its author helped them avoid a ticket. If
    they log the ticket anyway within the hour, the article did not save it and the points go back
    (the same window `communities.selectors.article_deflections` counts with)."""
    if deflection.outcome == "logged":
        _reverse_where(
            "the ticket was logged after all", rule__slug="deflection", actor_id=deflection.user_id,
            created_at__gte=deflection.created_at - DEFLECTION_WINDOW,
        )
        return None
    if deflection.outcome != "opened" or deflection.suggestion_type != "article" or not deflection.suggestion_key.isdecimal():
        return None
    article = Article.objects.select_related("author").filter(pk=int(deflection.suggestion_key)).first()
    if article is None:
        return None
    return _award(user=article.author, rule_slug="deflection", actor=deflection.user,
                  source=Source("article", article.pk, article.title, article.community_id, article.service_id,
                                tags_in(article.title, article.body)),
                  reason=f"\u201c{article.title}\u201d saved someone a ticket")


@transaction.atomic
def desk_visit_log(*, actor: User, ticket, note: str = "") -> DeskVisit:
    """An agent went to the requester's desk. It shows on the ticket to staff and pays once per
    ticket and agent (capped per day)."""
    if not can_see(actor, ticket):
        raise NotVisible()
    if not is_staff(actor):
        raise Forbidden("Only agents log desk visits.")
    if ticket.status == Status.CLOSED:
        raise ApplicationError("This ticket is closed.")
    note = (note or "").strip()
    if len(note) > 500:
        raise ApplicationError("That note is too long.", errors={"note": ["Keep it under 500 characters."]})
    if "\x00" in note:
        raise ApplicationError("The note contains a character that cannot be stored.",
                               errors={"note": ["Remove the null character."]})
    visit = DeskVisit.objects.create(ticket=ticket, agent=actor, note=note)
    activity_publish(
        actor=actor, verb="visited", obj=ticket_ref(ticket), audience=ticket_audience(ticket, internal=True),
        summary=f"{actor.display_name} visited {ticket.requester.display_name} at their desk for {ticket.number}"
        + (f": {note[:140]}" if note else ""),
        data={"ticket": ticket.pk, "desk_visit": visit.pk},
    )
    if actor.pk != ticket.requester_id:
        _award(user=actor, rule_slug="desk_visit", source=_ticket_source(ticket),
               reason=f"Visited {ticket.requester.display_name} for {ticket.number}")
    return visit


@transaction.atomic
def bounty_set(*, actor: User, ticket, points: int, note: str = "") -> Bounty:
    """A manager puts points on an open problem for whoever resolves it."""
    _require_manager(actor)
    if ticket.kind != Kind.PROBLEM:
        raise ApplicationError("Bounties go on problems.", errors={"ticket": ["That ticket is not a problem."]})
    if not ticket.is_open:
        raise ApplicationError("This problem is already resolved.")
    if not isinstance(points, int) or isinstance(points, bool) or not 1 <= points <= 10000:
        raise ApplicationError("The bounty was not set.", errors={"points": ["Give a whole number from 1 to 10000."]})
    # Changing a bounty sets it afresh: "Set by Carol, just now" names who set what shows, and when.
    bounty, _ = Bounty.objects.update_or_create(
        ticket=ticket, defaults={"points": points, "note": note[:300], "created_by": actor, "created_at": timezone.now()})
    return bounty


# --- communities -------------------------------------------------------------------------------


def _answer_source(answer) -> Source:
    question = answer.question
    return Source("answer", answer.pk, question.title, community_id=question.community_id,
                  tags=tags_in(question.title, question.body, answer.body))


def answer_voted(*, vote, answer) -> PointEntry | None:
    if vote.value != 1:
        return None
    return _award(user=answer.author, rule_slug="answer_upvoted", source=_answer_source(answer), actor=vote.user,
                  reason=f"Answer upvoted: {answer.question.title}")


def answer_accepted(*, answer, actor: User, previous_answer_id: int | None = None) -> PointEntry | None:
    if previous_answer_id and previous_answer_id != answer.pk:
        _reverse_where("another answer was accepted", source_type="answer", source_id=previous_answer_id,
                       rule__slug="answer_accepted")
    return _award(user=answer.author, rule_slug="answer_accepted", source=_answer_source(answer), actor=actor,
                  reason=f"Answer accepted: {answer.question.title}")


def answer_unaccepted(*, answer) -> list[PointEntry]:
    return _reverse_where("the answer is no longer accepted", source_type="answer", source_id=answer.pk,
                          rule__slug="answer_accepted")


def _article_source(article) -> Source:
    return Source("article", article.pk, article.title, article.community_id, article.service_id,
                  tags_in(article.title, article.body))


def article_published(*, article) -> PointEntry | None:
    return _award(user=article.author, rule_slug="article_published", source=_article_source(article),
                  reason=f"Published \u201c{article.title}\u201d")


def article_marked_helpful(*, article, actor: User) -> PointEntry | None:
    return _award(user=article.author, rule_slug="article_helpful", source=_article_source(article), actor=actor,
                  reason=f"\u201c{article.title}\u201d helped someone")



def content_removed(*, kind: str, object_id: int) -> list[PointEntry]:
    """A moderator removed an answer or article: whatever it earned goes back, so removed spam
    keeps no points."""
    return _reverse_where("a moderator removed it", source_type=kind, source_id=object_id)

# --- feeds -------------------------------------------------------------------------------------


def _post_source(post) -> Source:
    first = (post.body.strip().splitlines() or [""])[0]
    community_id = None
    if post.wall_type == "community":
        community_id = Community.objects.filter(slug=post.wall_key).values_list("pk", flat=True).first()
    return Source("post", post.pk, first[:120], community_id=community_id, tags=tuple(post.tags or ()))


def like_received(*, post, actor: User) -> PointEntry | None:
    return _award(user=post.author, rule_slug="like_received", source=_post_source(post), actor=actor,
                  reason=f"{actor.display_name} liked a post")


def like_withdrawn(*, post, actor: User) -> list[PointEntry]:
    return _reverse_where(f"{actor.display_name} removed a like", source_type="post", source_id=post.pk,
                          rule__slug="like_received", actor=actor)


# --- maintenance -------------------------------------------------------------------------------


def leaderboards_rebuild() -> dict[str, int]:
    """Recompute every leaderboard from the ledger (after a Redis loss, or to check)."""
    return leaderboard.rebuild()


def leaderboards_reconcile() -> dict:
    """Rewrite the current boards that drifted from the ledger (an update lost while Redis was
    away); intact boards are left alone."""
    return leaderboard.reconcile()


# --- social IT maturity plan --------------------------------------------------------------------


@transaction.atomic
def maturity_plan_create(*, actor: User, summary: str, satisfaction_target: Decimal, response_sla_target: int,
                         active_share_target: int, social_ticket_target: int, collaboration_target: int,
                         community_answer_target: int, first_answer_hours_target: int, ideas_done_target: int):
    """Write a new version of the social IT plan (the newest is in force). Managers and admins only."""
    from servicedesk.markdown import render

    from .models import MaturityPlan

    if not actor.is_manager:
        raise Forbidden("Only managers and admins write the social IT plan.")
    summary = (summary or "").strip()
    errors: dict[str, list[str]] = {}
    if not summary:
        errors["summary"] = ["Describe the plan: its milestones and the benefits you expect."]
    elif len(summary) > 10000 or "\x00" in summary:
        errors["summary"] = ["Keep the plan under 10,000 characters of plain text or markdown."]
    if not Decimal(1) <= Decimal(satisfaction_target) <= Decimal(5):
        errors["satisfaction_target"] = ["Choose an average rating from 1 to 5."]
    for name, value in (("response_sla_target", response_sla_target), ("active_share_target", active_share_target),
                        ("social_ticket_target", social_ticket_target), ("collaboration_target", collaboration_target),
                        ("community_answer_target", community_answer_target)):
        if not 0 <= int(value) <= 100:
            errors[name] = ["Choose a percentage from 0 to 100."]
    if not 0 <= int(first_answer_hours_target) <= 10000:
        errors["first_answer_hours_target"] = ["Choose a number of hours from 0 to 10,000."]
    if not 0 <= int(ideas_done_target) <= 100000:
        errors["ideas_done_target"] = ["Choose a number from 0 to 100,000."]
    if errors:
        raise ApplicationError("Check the plan.", errors=errors)
    return MaturityPlan.objects.create(
        summary=summary, summary_html=render(summary), satisfaction_target=satisfaction_target,
        response_sla_target=response_sla_target, active_share_target=active_share_target,
        social_ticket_target=social_ticket_target, collaboration_target=collaboration_target,
        community_answer_target=community_answer_target, first_answer_hours_target=first_answer_hours_target,
        ideas_done_target=ideas_done_target, created_by=actor,
    )
