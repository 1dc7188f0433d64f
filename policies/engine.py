"""The policy engine: a pure function from (channel, policies, message, context) to a decision.

No database, no network, no clock of its own: everything it needs comes in, so the same input
always gives the same decision, and tests can run it over thousands of messages.

Which policies apply: a policy covers the event kinds it names (none named: every kind). For a
post, the applicable policies are the channel's active policies whose scope covers its event; the
others are skipped as out of scope, and if none is left the post is blocked (fail closed). Each
applicable policy is applied on its own and gives allowed, held or blocked with its reasons; the
strictest outcome wins (blocked > held > allowed) and all reasons are kept. The text that goes out
is the rendering of the first applicable template (lowest policy id); every content check runs on
that final text, so a template that keeps `{body}` keeps the body's problems too. Rules that hold
whatever the policies say:

- an inactive channel: blocked (it sends nothing);
- no active policy on the channel: blocked (nothing leaves ungoverned);
- tokens and secrets: blocked on every audience;
- public audience: personal data and confidential services are always checked;
- automatic posts (the product's own) on a channel that is not internal carry no ticket
  description and no requester, and the ticket's title only where the template names `{title}`;
- any error: held for review, with the error as the reason (fail closed).
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from . import detectors

ALLOWED, HELD, BLOCKED = "allowed", "held", "blocked"
SEVERITY = {ALLOWED: 0, HELD: 1, BLOCKED: 2}

# Why a post is held: a reviewer's approval answers "approval" and "rate_limit"; an engine error
# on re-check holds it again whatever a reviewer said before.
HOLD_APPROVAL, HOLD_RATE, HOLD_ERROR = "approval", "rate_limit", "error"

PLACEHOLDER_RE = re.compile(r"\{(\w+)\}")
PLACEHOLDERS = ("number", "title", "body", "status", "service", "event", "site")
MAX_TEXT = 20_000


class TemplateError(ValueError):
    pass


@dataclass(frozen=True)
class ChannelFacts:
    name: str
    kind: str
    audience: str
    active: bool = True


@dataclass(frozen=True)
class PolicyFacts:
    id: int
    name: str
    allowed_events: tuple[str, ...] = ()
    blocked_terms: tuple[str, ...] = ()
    blocked_patterns: tuple[str, ...] = ()
    block_personal_data: bool = True
    confidential_services: tuple[str, ...] = ()
    template: str = ""
    requires_approval: bool = False
    rate_limit_per_hour: int = 0
    quiet_hours_start: time | None = None
    quiet_hours_end: time | None = None
    time_zone: str = "UTC"


@dataclass(frozen=True)
class Message:
    body: str
    event: str = "manual_post"
    ticket_number: str = ""
    ticket_title: str = ""
    ticket_status: str = ""
    service_name: str = ""
    # Posts the product writes itself (announcements, per-person updates), not a person's words.
    automatic: bool = False
    ticket_description: str = ""
    # What names the requester: display name, username, e-mail address.
    requester: tuple[str, ...] = ()


def covers(policy: PolicyFacts, event: str) -> bool:
    """A policy's scope: the event kinds it names, or every kind when it names none."""
    return not policy.allowed_events or event in policy.allowed_events


@dataclass(frozen=True)
class Context:
    now: datetime
    posts_last_hour: int = 0
    # Services the catalogue marks confidential: never named outside the desk.
    confidential_services: tuple[str, ...] = ()
    public_hosts: frozenset[str] = frozenset()
    # Suffixes of the organisation's own host names (POLICIES_INTERNAL_DOMAINS).
    internal_domains: tuple[str, ...] = detectors.DEFAULT_INTERNAL_DOMAINS
    site: str = ""


@dataclass
class Decision:
    outcome: str
    text: str
    reasons: list[str] = field(default_factory=list)
    hold_kinds: list[str] = field(default_factory=list)
    not_before: datetime | None = None
    # Names of the policies that applied, and of those skipped because the event is out of their scope.
    applied: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return self.outcome == ALLOWED

    @property
    def held(self) -> bool:
        return self.outcome == HELD

    @property
    def blocked(self) -> bool:
        return self.outcome == BLOCKED


def render_template(template: str, values: dict[str, str]) -> str:
    """`{name}` placeholders only (no attribute access, no format specs); unknown names are errors."""

    def sub(match: re.Match) -> str:
        name = match.group(1)
        if name not in PLACEHOLDERS:
            raise TemplateError(f"unknown placeholder {{{name}}}")
        return values.get(name, "")

    return PLACEHOLDER_RE.sub(sub, template)


def check_template(template: str) -> list[str]:
    return [f"Unknown placeholder {{{name}}}." for name in PLACEHOLDER_RE.findall(template) if name not in PLACEHOLDERS]


def term_re(term: str) -> re.Pattern:
    words = [re.escape(w) for w in term.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.I)


def quiet_until(policy: PolicyFacts, now: datetime) -> datetime | None:
    start, end = policy.quiet_hours_start, policy.quiet_hours_end
    if start is None or end is None or start == end:
        return None
    local = now.astimezone(ZoneInfo(policy.time_zone or "UTC"))
    t = local.time()
    inside = start <= t < end if start < end else (t >= start or t < end)
    if not inside:
        return None
    end_at = datetime.combine(local.date(), end, tzinfo=local.tzinfo)
    if end_at <= local:
        end_at = datetime.combine(local.date() + timedelta(days=1), end, tzinfo=local.tzinfo)
    return end_at


def _values(message: Message, context: Context) -> dict[str, str]:
    return {
        "number": message.ticket_number,
        "title": message.ticket_title,
        "body": message.body,
        "status": message.ticket_status,
        "service": message.service_name,
        "event": message.event.replace("_", " "),
        "site": context.site,
    }


def _content_reasons(channel: ChannelFacts, policy: PolicyFacts, text: str, context: Context) -> list[str]:
    reasons = []
    public = channel.audience == "public"
    for term in policy.blocked_terms:
        if term.strip() and term_re(term.strip()).search(text):
            reasons.append(f"Blocked term \u201c{term.strip()}\u201d ({policy.name}).")
    for pattern in policy.blocked_patterns:
        if re.search(pattern, text, re.I):
            reasons.append(f"Matches the blocked pattern {pattern} ({policy.name}).")
    confidential = set(policy.confidential_services)
    if channel.audience != "internal":
        confidential |= set(context.confidential_services)
    for name in sorted(confidential, key=str.lower):
        if name.strip() and term_re(name.strip()).search(text):
            reasons.append(f"Names the confidential service \u201c{name.strip()}\u201d ({policy.name}).")
    findings = detectors.find_personal_data(text, public_hosts=context.public_hosts, internal_domains=context.internal_domains)
    secrets = [f for f in findings if f.kind == detectors.SECRET]
    if secrets:
        reasons.append("Contains a token or secret.")
    if policy.block_personal_data or public:
        personal = [f for f in findings if f.kind != detectors.SECRET]
        for label in detectors.describe(personal):
            reasons.append(f"Contains personal data: {label} ({policy.name}).")
    return reasons


def _leak_reasons(channel: ChannelFacts, template: str, message: Message, text: str) -> list[str]:
    """An automatic post outside the desk says what happened, never to whom or about what."""
    if not message.automatic or channel.audience == "internal":
        return []
    reasons = []
    title = message.ticket_title.strip()
    if title and "{title}" not in template and term_re(title).search(text):
        reasons.append("Names the ticket's title: automatic posts outside the desk leave it out unless the "
                       "policy's template names {title}.")
    description = message.ticket_description.strip()
    if len(description) >= 8 and description.lower() in text.lower():
        reasons.append("Quotes the ticket's description: automatic posts outside the desk never carry it.")
    for name in message.requester:
        if len(name.strip()) >= 3 and term_re(name.strip()).search(text):
            reasons.append("Names the requester: automatic posts outside the desk never say who asked.")
            break
    return reasons


def _apply(channel: ChannelFacts, policy: PolicyFacts, message: Message, text: str, context: Context) -> Decision:
    reasons = _content_reasons(channel, policy, text, context)
    if reasons:
        return Decision(BLOCKED, text, reasons)
    decision = Decision(ALLOWED, text)
    if policy.requires_approval:
        decision.outcome = HELD
        decision.reasons.append(f"A reviewer must approve posts on this channel ({policy.name}).")
        decision.hold_kinds.append(HOLD_APPROVAL)
    if policy.rate_limit_per_hour and context.posts_last_hour >= policy.rate_limit_per_hour:
        decision.outcome = HELD
        decision.reasons.append(
            f"Rate limit of {policy.rate_limit_per_hour} posts an hour reached ({policy.name})."
        )
        decision.hold_kinds.append(HOLD_RATE)
    until = quiet_until(policy, context.now)
    if until is not None:
        decision.not_before = until
        decision.reasons.append(f"Quiet hours: waits until {until:%H:%M} {policy.time_zone} ({policy.name}).")
    return decision


def _decide(channel: ChannelFacts, policies: Sequence[PolicyFacts], message: Message, context: Context) -> Decision:
    if not isinstance(message.body, str) or len(message.body) > MAX_TEXT:
        raise ValueError("the message is not text or is too long to check")
    if not channel.active:
        return Decision(BLOCKED, message.body, ["The channel is inactive, so nothing may be posted to it."])
    if not policies:
        return Decision(BLOCKED, message.body, ["No policy governs this channel, so nothing may be posted to it."])
    policies = sorted(policies, key=lambda p: p.id)
    applicable = [p for p in policies if covers(p, message.event)]
    skipped = [p.name for p in policies if not covers(p, message.event)]
    if not applicable:
        return Decision(BLOCKED, message.body, [f"No policy on this channel covers {message.event.replace('_', ' ')}."],
                        skipped=skipped)
    values = _values(message, context)
    text, template = message.body, ""
    for policy in applicable:
        if policy.template.strip():
            template = policy.template
            text = render_template(template, values).strip()
            break
    final = Decision(ALLOWED, text, applied=[p.name for p in applicable], skipped=skipped)
    leaks = _leak_reasons(channel, template, message, text)
    if leaks:
        final.outcome = BLOCKED
        final.reasons += leaks
    for policy in applicable:
        one = _apply(channel, policy, message, text, context)
        if SEVERITY[one.outcome] > SEVERITY[final.outcome]:
            final.outcome = one.outcome
        final.reasons += [r for r in one.reasons if r not in final.reasons]
        final.hold_kinds += [k for k in one.hold_kinds if k not in final.hold_kinds]
        if one.not_before and (final.not_before is None or one.not_before > final.not_before):
            final.not_before = one.not_before
    if final.blocked:
        final.hold_kinds = []
        final.not_before = None
    if text != message.body and not final.blocked:
        final.reasons.insert(0, "Rewritten by the channel's template for its audience.")
    if not text.strip():
        return Decision(BLOCKED, text, ["Nothing is left to post after the template."], applied=final.applied, skipped=skipped)
    return final


def decide(channel: ChannelFacts, policies: Sequence[PolicyFacts], message: Message, context: Context) -> Decision:
    """Allowed, held for review or blocked, with the final text and every reason. Never raises."""
    try:
        return _decide(channel, policies, message, context)
    except Exception as exc:  # noqa: BLE001 - fail closed: a broken rule holds the post
        return Decision(
            HELD,
            getattr(message, "body", "") if isinstance(getattr(message, "body", ""), str) else "",
            [f"The policy engine could not check this post ({type(exc).__name__}: {exc}); held for review."],
            [HOLD_ERROR],
        )
