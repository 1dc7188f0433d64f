"""Every write of the policies domain: channels, policies, outbound posts and their delivery,
reviews, inbound listening and internal DLP flags. Each decision and attempt leaves an audit row.

Where the decision is made: `outbound_create` runs the engine in the request (or in the service
that raised the event) so the caller learns at once whether the post is blocked, held or queued,
and stores that decision. The delivery task runs the engine again on the stored body just before
sending (policies may have changed, the hour's rate may have filled up) and stores that decision
too; only an allowed re-check sends. A reviewer's approval answers "needs approval" and "rate
limit" holds, never a block or an engine error.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.validators import EmailValidator, URLValidator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from feeds.audience import Audience
from feeds.services import NotificationSpec, ObjectRef, activity_publish
from servicedesk import safe_urls
from servicedesk.errors import ApplicationError, Forbidden, NotVisible
from tickets.models import Kind, Service, Visibility
from tickets.selectors import can_see
from tickets.services import ticket_create

from . import detectors, engine, selectors, senders
from .models import (
    AuditEntry,
    Channel,
    DeliveryAttempt,
    DlpFlag,
    EventKind,
    ExternalChannelPreference,
    ListeningItem,
    ListeningRule,
    ListeningSource,
    OutboundPost,
    OutboundStatus,
    Policy,
)
from .models import Audience as ChannelAudience

logger = logging.getLogger(__name__)

STATUS_FOR = {engine.ALLOWED: OutboundStatus.QUEUED, engine.HELD: OutboundStatus.PENDING_REVIEW, engine.BLOCKED: OutboundStatus.BLOCKED}
# Incidents at this priority or higher (1 = critical) are announced on the status channels.
MAJOR_PRIORITY = 2


def _audit(action: str, *, actor: User | None = None, channel: Channel | None = None, post: OutboundPost | None = None,
           status: str = "", reasons=(), note: str = "", text: str = "") -> AuditEntry:
    return AuditEntry.objects.create(
        action=action, actor=actor, channel=channel or (post.channel if post else None), post=post,
        status=status or (post.status if post else ""), reasons=list(reasons), note=note[:2000], text=text,
    )


def _require_admin(actor: User) -> None:
    if not selectors.is_admin(actor):
        raise Forbidden("Only admins manage channels and policies.")


def _require_reviewer(actor: User) -> None:
    if not selectors.can_review(actor):
        raise Forbidden("Only admins and managers review outbound posts.")


def _str_list(value, field: str, errors: dict) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [line for line in value.splitlines()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        errors[field] = ["Give a list of strings."]
        return []
    return [v.strip() for v in value if v.strip()]


# --- channels and policies ----------------------------------------------------------------------


def _check_config(kind: str, config, errors: dict) -> dict:
    if not isinstance(config, dict):
        errors["config"] = ["Give the configuration as an object."]
        return {}
    required, optional = senders.CONFIG_KEYS[kind]
    clean = {}
    for key in required:
        if config.get(key) in (None, "", []):
            errors.setdefault("config", []).append(f"{key} is required for a {kind} channel.")
    unknown = sorted(set(config) - set(required) - set(optional))
    if unknown:
        errors.setdefault("config", []).append(f"Unknown settings: {', '.join(unknown)}.")
    url_check = URLValidator(schemes=["http", "https"])
    for key in (*required, *optional):
        if key not in config:
            continue
        value = config[key]
        if key in ("url", "instance_url", "api_url"):
            try:
                url_check(value if isinstance(value, str) else "")
            except ValidationError:
                errors.setdefault("config", []).append(f"{key} must be an http(s) URL.")
            if isinstance(value, str) and "\x00" not in value and (problem := safe_urls.address_problem(value)):
                errors.setdefault("config", []).append(f"{key}: {problem}")
        elif key == "to":
            addresses = [value] if isinstance(value, str) else value
            if not isinstance(addresses, list) or not addresses:
                errors.setdefault("config", []).append("to must list at least one e-mail address.")
            else:
                for address in addresses:
                    try:
                        EmailValidator()(address if isinstance(address, str) else "")
                    except ValidationError:
                        errors.setdefault("config", []).append(f"{address!r} is not an e-mail address.")
                value = addresses
        elif not isinstance(value, str):
            errors.setdefault("config", []).append(f"{key} must be text.")
        if any("\x00" in v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)):
            # PostgreSQL cannot store it; said without echoing the value, which may be a secret.
            errors.setdefault("config", []).append(f"{key} contains a NUL character.")
        clean[key] = value
    return clean


@transaction.atomic
def channel_create(*, actor: User, name: str, kind: str, audience: str, config: dict | None = None,
                   announces_incidents: bool = False, offered_to_requesters: bool = False) -> Channel:
    _require_admin(actor)
    errors: dict[str, list[str]] = {}
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name or len(name) > 120:
        errors["name"] = ["Give the channel a name of up to 120 characters."]
    elif Channel.objects.filter(name__iexact=name).exists():
        errors["name"] = ["A channel with this name exists."]
    if kind not in Channel.Kind.values:
        errors["kind"] = [f"Choose one of {', '.join(Channel.Kind.values)}."]
    if audience not in ChannelAudience.values:
        errors["audience"] = [f"Choose one of {', '.join(ChannelAudience.values)}."]
    clean = _check_config(kind, config or {}, errors) if kind in Channel.Kind.values else {}
    if errors:
        raise ApplicationError("The channel could not be saved.", errors=errors)
    slug = base = slugify(name)[:100] or "channel"
    n = 2
    while Channel.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    channel = Channel.objects.create(
        name=name, slug=slug, kind=kind, audience=audience, config=clean, announces_incidents=bool(announces_incidents),
        offered_to_requesters=bool(offered_to_requesters), created_by=actor,
    )
    _audit(AuditEntry.Action.CHANNEL, actor=actor, channel=channel, note=f"{channel.get_kind_display()}, {channel.get_audience_display()}")
    return channel


def policy_check(*, name, allowed_events=None, blocked_terms=None, blocked_patterns=None, template="",
                 rate_limit_per_hour=0, quiet_hours_start=None, quiet_hours_end=None, time_zone="UTC") -> dict[str, list[str]]:
    """The field errors of a policy (used by the API, the form and `policy_create`)."""
    errors: dict[str, list[str]] = {}
    if not isinstance(name, str) or not name.strip() or len(name) > 120:
        errors["name"] = ["Give the policy a name of up to 120 characters."]
    events = _str_list(allowed_events, "allowed_events", errors)
    unknown = [e for e in events if e not in EventKind.values]
    if unknown:
        errors["allowed_events"] = [f"Unknown event kinds: {', '.join(unknown)}. Choose from {', '.join(EventKind.values)}."]
    _str_list(blocked_terms, "blocked_terms", errors)
    for pattern in _str_list(blocked_patterns, "blocked_patterns", errors):
        try:
            re.compile(pattern)
        except re.error as exc:
            errors.setdefault("blocked_patterns", []).append(f"{pattern}: {exc}.")
    if not isinstance(template, str):
        errors["template"] = ["Give the template as text."]
    else:
        problems = engine.check_template(template)
        if problems:
            errors["template"] = problems + [f"Use {', '.join('{' + p + '}' for p in engine.PLACEHOLDERS)}."]
    if not isinstance(rate_limit_per_hour, int) or isinstance(rate_limit_per_hour, bool) or not 0 <= rate_limit_per_hour <= 10_000:
        errors["rate_limit_per_hour"] = ["Give a whole number from 0 (no limit) to 10000."]
    if (quiet_hours_start is None) != (quiet_hours_end is None):
        errors["quiet_hours"] = ["Give both a start and an end (or neither)."]
    try:
        ZoneInfo(time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        errors["time_zone"] = ["Unknown time zone."]
    return errors


@transaction.atomic
def policy_create(*, actor: User, channel: Channel, name: str, allowed_events=None, blocked_terms=None,
                  blocked_patterns=None, block_personal_data: bool = True, template: str = "",
                  requires_approval: bool = False, rate_limit_per_hour: int = 0, confidential_services=(),
                  quiet_hours_start=None, quiet_hours_end=None, time_zone: str = "UTC") -> Policy:
    """`allowed_events` left out (None) or empty allows every event kind; content rules still apply."""
    _require_admin(actor)
    errors = policy_check(
        name=name, allowed_events=allowed_events, blocked_terms=blocked_terms, blocked_patterns=blocked_patterns,
        template=template, rate_limit_per_hour=rate_limit_per_hour, quiet_hours_start=quiet_hours_start,
        quiet_hours_end=quiet_hours_end, time_zone=time_zone,
    )
    if errors:
        raise ApplicationError("The policy could not be saved.", errors=errors)
    ignored: dict = {}
    policy = Policy.objects.create(
        name=name.strip(), channel=channel, allowed_events=_str_list(allowed_events, "", ignored),
        blocked_terms=_str_list(blocked_terms, "", ignored), blocked_patterns=_str_list(blocked_patterns, "", ignored),
        block_personal_data=bool(block_personal_data), template=template.strip(), requires_approval=bool(requires_approval),
        rate_limit_per_hour=rate_limit_per_hour, quiet_hours_start=quiet_hours_start, quiet_hours_end=quiet_hours_end,
        time_zone=time_zone or "UTC", created_by=actor,
    )
    if confidential_services:
        policy.confidential_services.set(confidential_services)
    _audit(AuditEntry.Action.POLICY, actor=actor, channel=channel, note=f"Policy \u201c{policy.name}\u201d")
    return policy


UNCHANGED = object()


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _lock_channel(channel: Channel) -> Channel:
    return Channel.objects.select_for_update().get(pk=channel.pk)


def _merge_config(current: dict, patch, errors: dict) -> tuple[dict, list[str]]:
    """A new value replaces a setting, an empty one (null, "", []) removes it, a missing one keeps it.

    The changes are described without any secret's value, old or new."""
    if not isinstance(patch, dict):
        errors["config"] = ["Give the configuration as an object."]
        return dict(current), []
    merged, changes = dict(current), []
    for key in sorted(patch):
        value = patch[key]
        secret = key in senders.SECRET_KEYS
        if value in (None, "", []):
            if key in merged:
                del merged[key]
                changes.append(f"{key}: cleared")
            continue
        if secret:
            changes.append(f"{key}: {'replaced' if merged.get(key) else 'set'} (secret, not recorded)")
        elif merged.get(key) != value:
            changes.append(f"{key}: {_shown(merged.get(key))} \u2192 {_shown(value)}")
        merged[key] = value
    return merged, changes


def _shown(value) -> str:
    if value in (None, "", [], ()):
        return "\u2014"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return f"\u201c{value}\u201d" if isinstance(value, str) else str(value)


@transaction.atomic
def channel_update(*, actor: User, channel: Channel, name=UNCHANGED, kind=UNCHANGED, audience=UNCHANGED, config=UNCHANGED,
                   announces_incidents=UNCHANGED, offered_to_requesters=UNCHANGED, active=UNCHANGED) -> Channel:
    """Change what was given. `config` is merged into the stored one (see `_merge_config`), so a
    secret the caller never saw is kept unless replaced or cleared. The kind is fixed: posts
    already sent went out through it, and its settings would not fit another. Channels are never
    deleted (posts and the audit refer to them): an inactive one sends nothing."""
    _require_admin(actor)
    channel = _lock_channel(channel)
    errors: dict[str, list[str]] = {}
    changes: list[str] = []
    fields: list[str] = []
    if name is not UNCHANGED:
        name = name.strip() if isinstance(name, str) else ""
        if not name or len(name) > 120:
            errors["name"] = ["Give the channel a name of up to 120 characters."]
        elif Channel.objects.filter(name__iexact=name).exclude(pk=channel.pk).exists():
            errors["name"] = ["A channel with this name exists."]
        elif name != channel.name:
            changes.append(f"name: {_shown(channel.name)} \u2192 {_shown(name)}")
            channel.name = name
            fields.append("name")
    if kind is not UNCHANGED and kind != channel.kind:
        errors["kind"] = ["A channel's kind cannot change: create a new channel and deactivate this one."]
    if audience is not UNCHANGED:
        if audience not in ChannelAudience.values:
            errors["audience"] = [f"Choose one of {', '.join(ChannelAudience.values)}."]
        elif audience != channel.audience:
            changes.append(f"audience: {channel.audience} \u2192 {audience}")
            channel.audience = audience
            fields.append("audience")
    if config is not UNCHANGED:
        merged, config_changes = _merge_config(channel.config, config, errors)
        if "config" not in errors:
            clean = _check_config(channel.kind, merged, errors)
            if config_changes:
                channel.config = clean
                changes += config_changes
                fields.append("config")
    for field, value in (("announces_incidents", announces_incidents), ("offered_to_requesters", offered_to_requesters),
                         ("active", active)):
        if value is UNCHANGED:
            continue
        if not isinstance(value, bool):
            errors[field] = ["Give true or false."]
        elif value != getattr(channel, field):
            changes.append(f"{field}: {_yes_no(getattr(channel, field))} \u2192 {_yes_no(value)}")
            setattr(channel, field, value)
            fields.append(field)
    if errors:
        raise ApplicationError("The channel could not be saved.", errors=errors)
    if fields:
        channel.save(update_fields=fields)
        _audit(AuditEntry.Action.CHANNEL_CHANGED, actor=actor, channel=channel, reasons=[f"{c}." for c in changes])
    return channel


POLICY_FIELDS = (
    "name", "channel", "allowed_events", "blocked_terms", "blocked_patterns", "block_personal_data", "template",
    "requires_approval", "rate_limit_per_hour", "confidential_services", "quiet_hours_start", "quiet_hours_end", "time_zone",
    "active",
)


def _policy_values(policy: Policy) -> dict:
    values = {f: getattr(policy, f) for f in POLICY_FIELDS if f != "confidential_services"}
    values["confidential_services"] = sorted(policy.confidential_services.all(), key=lambda s: s.pk)
    return values


@transaction.atomic
def policy_update(*, actor: User, policy: Policy, **changes) -> Policy:
    """Change the fields given (any of `POLICY_FIELDS`), checked exactly as `policy_create` checks
    them. An inactive policy no longer applies; a channel left without an active policy blocks
    everything. Policies are never deleted: the audit refers to them."""
    _require_admin(actor)
    unknown = sorted(set(changes) - set(POLICY_FIELDS))
    if unknown:
        raise ApplicationError("The policy could not be saved.", errors={k: ["Unknown field."] for k in unknown})
    policy = Policy.objects.select_for_update(of=("self",)).select_related("channel").get(pk=policy.pk)
    before = _policy_values(policy)
    after = {**before, **changes}
    errors = policy_check(
        name=after["name"], allowed_events=after["allowed_events"], blocked_terms=after["blocked_terms"],
        blocked_patterns=after["blocked_patterns"], template=after["template"], rate_limit_per_hour=after["rate_limit_per_hour"],
        quiet_hours_start=after["quiet_hours_start"], quiet_hours_end=after["quiet_hours_end"], time_zone=after["time_zone"],
    )
    if not isinstance(after["channel"], Channel):
        errors["channel"] = ["Unknown channel."]
    for field in ("block_personal_data", "requires_approval", "active"):
        if not isinstance(after[field], bool):
            errors[field] = ["Give true or false."]
    if errors:
        raise ApplicationError("The policy could not be saved.", errors=errors)
    ignored: dict = {}
    after["name"] = after["name"].strip()
    after["template"] = (after["template"] or "").strip()
    after["time_zone"] = after["time_zone"] or "UTC"
    for field in ("allowed_events", "blocked_terms", "blocked_patterns"):
        after[field] = _str_list(after[field], "", ignored)
    after["confidential_services"] = sorted(set(after["confidential_services"] or ()), key=lambda s: s.pk)
    described: list[str] = []
    fields: list[str] = []
    for field in POLICY_FIELDS:
        old, new = before[field], after[field]
        if old == new:
            continue
        if field == "confidential_services":
            policy.confidential_services.set(new)
            described.append(f"{field}: {_shown([s.name for s in old])} \u2192 {_shown([s.name for s in new])}")
            continue
        setattr(policy, field, new)
        fields.append(field)
        if field == "channel":
            described.append(f"channel: {_shown(old.name)} \u2192 {_shown(new.name)}")
        elif isinstance(new, bool):
            described.append(f"{field}: {_yes_no(old)} \u2192 {_yes_no(new)}")
        else:
            described.append(f"{field}: {_shown(old)} \u2192 {_shown(new)}")
    if fields:
        policy.save(update_fields=fields)
    if described:
        described = [f"{d}." for d in described]
        _audit(AuditEntry.Action.POLICY_CHANGED, actor=actor, channel=policy.channel, reasons=described,
               note=f"Policy \u201c{policy.name}\u201d")
        if before["channel"] != policy.channel:
            # The channel it left is governed differently too: its trail says so.
            _audit(AuditEntry.Action.POLICY_CHANGED, actor=actor, channel=before["channel"], reasons=described,
                   note=f"Policy \u201c{policy.name}\u201d moved to {policy.channel.name}")
    return policy


# --- deciding -----------------------------------------------------------------------------------


def _policy_facts(policy: Policy) -> engine.PolicyFacts:
    return engine.PolicyFacts(
        id=policy.pk, name=policy.name, allowed_events=tuple(policy.allowed_events), blocked_terms=tuple(policy.blocked_terms),
        blocked_patterns=tuple(policy.blocked_patterns), block_personal_data=policy.block_personal_data,
        confidential_services=tuple(s.name for s in policy.confidential_services.all()), template=policy.template,
        requires_approval=policy.requires_approval, rate_limit_per_hour=policy.rate_limit_per_hour,
        quiet_hours_start=policy.quiet_hours_start, quiet_hours_end=policy.quiet_hours_end, time_zone=policy.time_zone,
    )


def _public_hosts() -> frozenset[str]:
    hosts = {urlsplit(settings.SITE_URL).hostname or ""} | set(settings.POLICIES_PUBLIC_HOSTS)
    return frozenset(h.lower() for h in hosts if h)


def _internal_domains() -> tuple[str, ...]:
    return tuple(settings.POLICIES_INTERNAL_DOMAINS)


def _message(*, body: str, event: str, ticket, automatic: bool = False) -> engine.Message:
    if ticket is None:
        return engine.Message(body=body, event=event, automatic=automatic)
    requester = ticket.requester
    return engine.Message(
        body=body, event=event, ticket_number=ticket.number, ticket_title=ticket.title,
        ticket_status=ticket.get_status_display().lower(), service_name=ticket.service.name if ticket.service_id else "",
        automatic=automatic, ticket_description=ticket.description,
        requester=tuple(n for n in (requester.display_name, requester.username, requester.email) if n),
    )


def decide(*, channel: Channel, body: str, event: str = EventKind.MANUAL_POST, ticket=None, exclude_post: int | None = None,
           now=None, automatic: bool = False) -> engine.Decision:
    """Gather what the engine needs (policies, the hour's posts, the catalogue) and run it."""
    try:
        now = now or timezone.now()
        recent = OutboundPost.objects.filter(
            channel=channel, decided_at__gte=now - timedelta(hours=1),
            status__in=(OutboundStatus.QUEUED, OutboundStatus.SENDING, OutboundStatus.SENT, OutboundStatus.AMBIGUOUS),
        )
        if exclude_post:
            recent = recent.exclude(pk=exclude_post)
        context = engine.Context(
            now=now, posts_last_hour=recent.count(),
            confidential_services=tuple(Service.objects.filter(confidential=True).values_list("name", flat=True)),
            public_hosts=_public_hosts(), internal_domains=_internal_domains(), site=settings.SITE_URL,
        )
        if automatic and ticket is not None and event in ANNOUNCEMENTS and ticket.visibility != "public":
            return engine.Decision(engine.BLOCKED, body, [f"{ticket.number} is no longer public, so it is not announced."])
        facts = [_policy_facts(p) for p in channel.policies.filter(active=True).prefetch_related("confidential_services")]
        channel_facts = engine.ChannelFacts(name=channel.name, kind=channel.kind, audience=channel.audience, active=channel.active)
        message = _message(body=body, event=event, ticket=ticket, automatic=automatic)
    except Exception as exc:  # noqa: BLE001 - fail closed, as the engine itself does
        logger.exception("could not gather the facts for a policy decision")
        return engine.Decision(engine.HELD, body, [f"The policies could not be read ({type(exc).__name__}); held for review."],
                               [engine.HOLD_ERROR])
    return engine.decide(channel_facts, facts, message, context)


def _check_outbound_input(actor: User | None, channel, body, event: str, ticket) -> None:
    if actor is not None and not actor.is_agent:
        raise Forbidden("Only the service desk posts outside the product.")
    errors = {}
    if not isinstance(body, str) or not body.strip():
        errors["body"] = ["Write something first."]
    elif len(body) > 5000:
        errors["body"] = ["Keep it under 5,000 characters."]
    if event not in EventKind.values:
        errors["event"] = [f"Choose one of {', '.join(EventKind.values)}."]
    if channel is None or not channel.active:
        errors["channel"] = ["Choose an active channel."]
    if errors:
        raise ApplicationError("The post could not be checked.", errors=errors)
    if ticket is not None and actor is not None:
        if not can_see(actor, ticket):
            raise NotVisible()


def outbound_preview(*, actor: User, channel: Channel, body: str, ticket=None, event: str = EventKind.MANUAL_POST) -> engine.Decision:
    """What would happen to this post, with nothing stored or sent."""
    _check_outbound_input(actor, channel, body, event, ticket)
    return decide(channel=channel, body=body.strip(), event=event, ticket=ticket)


@transaction.atomic
def outbound_create(*, actor: User | None, channel: Channel, body: str, ticket=None, event: str = EventKind.MANUAL_POST,
                    recipient: str = "", dedupe_key: str | None = None) -> OutboundPost:
    """Decide, store the decision and, if allowed, queue the delivery (enqueued on commit).

    `actor` is None for posts the product makes itself (incident announcements)."""
    _check_outbound_input(actor, channel, body, event, ticket)
    if dedupe_key:
        existing = OutboundPost.objects.filter(dedupe_key=dedupe_key).first()
        if existing is not None:
            return existing
    now = timezone.now()
    decision = decide(channel=channel, body=body.strip(), event=event, ticket=ticket, now=now, automatic=actor is None)
    post = OutboundPost.objects.create(
        channel=channel, event=event, body=body.strip(), text=decision.text, ticket=ticket, recipient=recipient,
        status=STATUS_FOR[decision.outcome], reasons=decision.reasons, hold_kinds=decision.hold_kinds, created_by=actor,
        policies_applied=decision.applied, policies_skipped=decision.skipped, decided_at=now, next_attempt_at=decision.not_before or now, dedupe_key=dedupe_key,
    )
    _audit(AuditEntry.Action.DECIDED, actor=actor, post=post, reasons=decision.reasons, text=decision.text)
    if post.status == OutboundStatus.QUEUED:
        _dispatch_on_commit(post)
    return post


def _dispatch_on_commit(post: OutboundPost) -> None:
    post_id = post.pk
    delay = max(0.0, (post.next_attempt_at - timezone.now()).total_seconds()) if post.next_attempt_at else 0.0
    if delay > settings.POLICIES_SWEEP_SECONDS * 2:
        return  # the sweep picks it up when it is due

    def send():
        from .tasks import outbound_deliver

        try:
            outbound_deliver.apply_async(
                (post_id,), countdown=delay or None, retry=True, retry_policy=settings.OUTBOX_PUBLISH_RETRY_POLICY
            )
        except Exception:  # noqa: BLE001 - the sweep delivers what could not be enqueued
            logger.warning("could not enqueue outbound post %s; the sweep will deliver it", post_id, exc_info=True)

    transaction.on_commit(send)


def _lock_post(post_id: int, *, skip_locked: bool = False) -> OutboundPost | None:
    return (
        OutboundPost.objects.select_for_update(of=("self",), skip_locked=skip_locked)
        .select_related("channel", "ticket", "ticket__service")
        .filter(pk=post_id)
        .first()
    )


OWN_POST_REFUSAL = "You wrote this post, so another reviewer must approve it (separation of duties)."
SOLE_REVIEWER_NOTE = "Approved by its own author, the only reviewer configured."


@transaction.atomic
def outbound_approve(*, actor: User, post: OutboundPost, note: str = "") -> OutboundPost:
    """A reviewer lets a held post go. Nobody approves their own post while another reviewer
    exists; the only reviewer configured may, and the post and its audit row say so."""
    _require_reviewer(actor)
    post = _lock_post(post.pk)
    if post.status != OutboundStatus.PENDING_REVIEW:
        raise ApplicationError("Only a post waiting for review can be approved.")
    self_approved = post.created_by_id == actor.pk
    if self_approved and selectors.other_reviewers(actor).exists():
        raise Forbidden(OWN_POST_REFUSAL)
    now = timezone.now()
    post.status, post.approved, post.self_approved = OutboundStatus.QUEUED, True, self_approved
    post.reviewed_by, post.reviewed_at, post.review_note = actor, now, (note or "").strip()[:2000]
    post.next_attempt_at = max(post.next_attempt_at or now, now)
    post.save(update_fields=["status", "approved", "self_approved", "reviewed_by", "reviewed_at", "review_note", "next_attempt_at"])
    audit_note = " ".join(filter(None, (SOLE_REVIEWER_NOTE if self_approved else "", post.review_note)))
    _audit(AuditEntry.Action.APPROVED, actor=actor, post=post, note=audit_note, reasons=post.reasons, text=post.text)
    _dispatch_on_commit(post)
    return post


@transaction.atomic
def outbound_reject(*, actor: User, post: OutboundPost, note: str = "") -> OutboundPost:
    _require_reviewer(actor)
    post = _lock_post(post.pk)
    if post.status != OutboundStatus.PENDING_REVIEW:
        raise ApplicationError("Only a post waiting for review can be rejected.")
    note = (note or "").strip()[:2000]
    post.status = OutboundStatus.BLOCKED
    post.reviewed_by, post.reviewed_at, post.review_note = actor, timezone.now(), note
    post.reasons = [*post.reasons, f"Rejected by {actor.display_name}" + (f": {note}" if note else ".")]
    post.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note", "reasons"])
    _audit(AuditEntry.Action.REJECTED, actor=actor, post=post, note=note, reasons=post.reasons, text=post.text)
    return post


@transaction.atomic
def outbound_resolve(*, actor: User, post: OutboundPost, outcome: str, note: str = "") -> OutboundPost:
    """A reviewer settles an ambiguous delivery: it did arrive (sent), or it did not (retry)."""
    _require_reviewer(actor)
    if outcome not in ("sent", "retry"):
        raise ApplicationError("Say whether it arrived.", errors={"outcome": ["Choose sent or retry."]})
    post = _lock_post(post.pk)
    if post.status != OutboundStatus.AMBIGUOUS:
        raise ApplicationError("Only an ambiguous delivery can be resolved.")
    now = timezone.now()
    note = (note or "").strip()[:2000]
    if outcome == "sent":
        post.status, post.sent_at = OutboundStatus.SENT, now
    else:
        post.status, post.next_attempt_at = OutboundStatus.QUEUED, now
    post.reviewed_by, post.reviewed_at, post.review_note = actor, now, note
    post.save(update_fields=["status", "sent_at", "next_attempt_at", "reviewed_by", "reviewed_at", "review_note"])
    _audit(AuditEntry.Action.RESOLVED, actor=actor, post=post, note=f"Resolved as {outcome}" + (f": {note}" if note else ""))
    if post.status == OutboundStatus.QUEUED:
        _dispatch_on_commit(post)
    return post


# --- delivering ---------------------------------------------------------------------------------


def _retry_delay(attempts: int) -> float:
    return min(settings.POLICIES_RETRY_MAX_SECONDS, settings.POLICIES_RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1))


def _start_attempt(post_id: int) -> tuple[DeliveryAttempt, senders.Outgoing] | None:
    """Re-check and record the attempt, in a transaction of its own that commits before the send."""
    with transaction.atomic():
        post = _lock_post(post_id, skip_locked=True)
        now = timezone.now()
        if post is None or post.status != OutboundStatus.QUEUED or (post.next_attempt_at and post.next_attempt_at > now):
            return None
        decision = decide(channel=post.channel, body=post.body, event=post.event, ticket=post.ticket, exclude_post=post.pk, now=now,
                          automatic=post.created_by_id is None)
        approved_holds = {engine.HOLD_APPROVAL, engine.HOLD_RATE}
        if decision.blocked:
            post.status = OutboundStatus.BLOCKED
        elif decision.held and not (post.approved and set(decision.hold_kinds) <= approved_holds):
            post.status = OutboundStatus.PENDING_REVIEW
        elif decision.not_before and decision.not_before > now:
            post.next_attempt_at = decision.not_before
        post.policies_applied, post.policies_skipped = decision.applied, decision.skipped
        if post.status != OutboundStatus.QUEUED or post.next_attempt_at > now:
            post.reasons, post.hold_kinds, post.text = decision.reasons, decision.hold_kinds, decision.text
            post.save(update_fields=["status", "reasons", "hold_kinds", "text", "next_attempt_at", "policies_applied",
                                     "policies_skipped"])
            _audit(AuditEntry.Action.RECHECKED, post=post, reasons=decision.reasons, text=decision.text)
            return None
        _audit(AuditEntry.Action.RECHECKED, post=post, reasons=decision.reasons, text=decision.text, status=OutboundStatus.QUEUED)
        post.text = decision.text
        post.attempts += 1
        post.status = OutboundStatus.SENDING
        post.save(update_fields=["text", "attempts", "status", "policies_applied", "policies_skipped"])
        attempt = DeliveryAttempt.objects.create(post=post, number=post.attempts)
        _audit(AuditEntry.Action.ATTEMPT, post=post, note=f"Attempt {attempt.number}")
        outgoing = senders.Outgoing(
            post_id=post.pk, attempt=attempt.number, delivery_key=str(post.delivery_key), channel_kind=post.channel.kind,
            channel_name=post.channel.name, config=dict(post.channel.config), text=post.text, event=post.event,
            ticket_number=post.ticket.number if post.ticket_id else "", recipient=post.recipient,
        )
        return attempt, outgoing


def outbound_deliver(*, post_id: int) -> str:
    """One delivery attempt of a queued post. Returns the post's status afterwards (or "skipped").

    The attempt row is committed before the network call, so a worker that dies mid-send leaves
    a `sending` post with an open attempt, which the sweep marks ambiguous, never re-sends."""
    started = _start_attempt(post_id)
    if started is None:
        post = OutboundPost.objects.filter(pk=post_id).only("status").first()
        return post.status if post else "skipped"
    attempt, outgoing = started
    result = senders.send(outgoing)
    return _finish_attempt(attempt.pk, result)


@transaction.atomic
def _finish_attempt(attempt_id: int, result: senders.Result) -> str:
    attempt = DeliveryAttempt.objects.select_for_update().get(pk=attempt_id)
    post = _lock_post(attempt.post_id)
    now = timezone.now()
    attempt.finished_at, attempt.http_status, attempt.error = now, result.http_status, result.error[:2000]
    fields = ["status"]
    if result.outcome == senders.SENT:
        attempt.outcome = DeliveryAttempt.Outcome.SENT
        post.status, post.sent_at = OutboundStatus.SENT, now
        fields.append("sent_at")
        action = AuditEntry.Action.DELIVERED
    elif result.outcome == senders.AMBIGUOUS:
        attempt.outcome = DeliveryAttempt.Outcome.AMBIGUOUS
        post.status = OutboundStatus.AMBIGUOUS
        action = AuditEntry.Action.AMBIGUOUS
    else:
        attempt.outcome = DeliveryAttempt.Outcome.ERROR
        if result.outcome == senders.RETRY and post.attempts < settings.POLICIES_MAX_ATTEMPTS:
            post.status, post.next_attempt_at = OutboundStatus.QUEUED, now + timedelta(seconds=_retry_delay(post.attempts))
            fields.append("next_attempt_at")
            action = AuditEntry.Action.RETRY
        else:
            post.status = OutboundStatus.FAILED
            action = AuditEntry.Action.FAILED
    attempt.save(update_fields=["finished_at", "http_status", "error", "outcome"])
    post.save(update_fields=fields)
    detail = f"Attempt {attempt.number}" + (f": HTTP {result.http_status}" if result.http_status else "")
    detail += f" ({result.error})" if result.error else ""
    _audit(action, post=post, note=detail)
    if post.status == OutboundStatus.QUEUED:
        _dispatch_on_commit(post)
    return post.status


def outbound_sweep(*, limit: int = 100) -> int:
    """Deliver what is due; turn sends a dead worker left open into `ambiguous` (never re-sent)."""
    now = timezone.now()
    stuck_before = now - timedelta(seconds=settings.POLICIES_HTTP_TIMEOUT + settings.POLICIES_CONNECT_TIMEOUT
                                   + settings.POLICIES_STUCK_GRACE_SECONDS)
    for attempt in DeliveryAttempt.objects.filter(outcome=DeliveryAttempt.Outcome.IN_FLIGHT, started_at__lt=stuck_before)[:limit]:
        with transaction.atomic():
            post = _lock_post(attempt.post_id, skip_locked=True)
            if post is None or post.status != OutboundStatus.SENDING:
                continue
            DeliveryAttempt.objects.filter(pk=attempt.pk).update(
                outcome=DeliveryAttempt.Outcome.AMBIGUOUS, finished_at=now, error="The worker stopped during the send."
            )
            post.status = OutboundStatus.AMBIGUOUS
            post.save(update_fields=["status"])
            _audit(AuditEntry.Action.AMBIGUOUS, post=post, note=f"Attempt {attempt.number}: the worker stopped during the send")
    due = list(
        OutboundPost.objects.filter(status=OutboundStatus.QUEUED, next_attempt_at__lte=now)
        .order_by("next_attempt_at").values_list("id", flat=True)[:limit]
    )
    return sum(1 for post_id in due if outbound_deliver(post_id=post_id) == OutboundStatus.SENT)


# --- posts the product makes itself -------------------------------------------------------------


# What a person hears on their chosen channel, per change on their ticket.
# Resolved is a status change like the others; `ticket_resolved` is the status channels' event.
PERSONAL_EVENTS = {"replied": EventKind.TICKET_REPLIED, "closed": EventKind.TICKET_CLOSED}
# Events that announce a public incident to everyone: only while the ticket is still public.
ANNOUNCEMENTS = (EventKind.MAJOR_INCIDENT_OPENED, EventKind.TICKET_RESOLVED)


def _announcement(event: str, ticket, audience: str) -> str:
    """The status channels' default text: neutral outside the desk (a template naming {title} may
    add the title), with the title on internal channels."""
    internal = audience == ChannelAudience.INTERNAL
    if event == EventKind.MAJOR_INCIDENT_OPENED:
        return f"{ticket.number}: {ticket.title}" if internal else f"Major incident {ticket.number} is being worked on."
    return f"{ticket.number} has been resolved: {ticket.title}" if internal else f"{ticket.number} has been resolved."


def _personal_text(event: str, ticket, audience: str) -> str:
    """A requester's update: the number and what happened; the title only on internal channels."""
    about = f"{ticket.number} ({ticket.title})" if audience == ChannelAudience.INTERNAL else ticket.number
    if event == EventKind.TICKET_REPLIED:
        return f"There is a new reply on your ticket {about}."
    if event == EventKind.TICKET_CLOSED:
        return f"Your ticket {about} has been closed."
    if ticket.status == "resolved":
        return f"Your ticket {about} has been resolved."
    return f"Your ticket {about} is now {ticket.get_status_display().lower()}."


def ticket_announce(*, ticket, change: str, actor: User | None = None, ref: str = "") -> list[OutboundPost]:
    """Runs on the ticket_opened, ticket_status_changed and ticket_replied hooks (inside their
    transaction): `change` is "opened", the new status, or "replied" (`ref` the comment's id).

    Public major incidents are announced on the status channels when opened and resolved. The
    requester hears of every public change on the external channel they chose, through the
    policy engine like every other post, unless they made the change themselves."""
    from tickets.models import Kind, Visibility

    posts = []
    if ticket.kind == Kind.INCIDENT and ticket.visibility == Visibility.PUBLIC and ticket.priority <= MAJOR_PRIORITY:
        event = {"opened": EventKind.MAJOR_INCIDENT_OPENED, "resolved": EventKind.TICKET_RESOLVED}.get(change)
        if event:
            for channel in Channel.objects.filter(active=True, announces_incidents=True).order_by("id"):
                posts.append(outbound_create(
                    actor=None, channel=channel, body=_announcement(event, ticket, channel.audience), ticket=ticket, event=event,
                    dedupe_key=f"{event}:{ticket.pk}:{ticket.resolution_count}:{channel.pk}",
                ))
    if change != "opened":
        post = requester_update(ticket=ticket, change=change, actor=actor, ref=ref)
        if post is not None:
            posts.append(post)
    return posts


def chat_thread_update(*, ticket, actor, verb: str, summary: str, comment_id: int | None = None) -> list[OutboundPost]:
    """A ticket logged from a chat tool: every update its requester is told about (public replies,
    status changes) goes back to the thread it was logged from, through the connection's outbound
    channel and that channel's policies. Nothing goes once the ticket was made private, when the connection
    inactive, or the requester no longer linked to it, inactive or unable to see the ticket.
    Subscribed to ``hooks.ticket_public_update`` (inside the ticket's transaction)."""
    from intake.models import ChatRequest
    from tickets.models import Status, TicketChange, Visibility
    from tickets.selectors import can_see

    requester = ticket.requester
    if actor is not None and actor.pk == ticket.requester_id:
        return []  # the requester did it: nothing to tell them
    if not requester.is_active or not can_see(requester, ticket):
        return []
    if ticket.visibility == Visibility.PRIVATE and TicketChange.objects.filter(
            ticket=ticket, field="visibility", new=Visibility.PRIVATE).exists():
        return []  # made private since: what happens now is not for the chat thread
    # The requester's own thread hears what the requester would hear on their chosen channel:
    # the same personal events and the same neutral texts (the title only on internal channels).
    if verb == "commented":
        event, key = EventKind.TICKET_REPLIED, f"chat:comment:{comment_id}" if comment_id else None
    elif ticket.status == Status.CLOSED:
        event, key = EventKind.TICKET_CLOSED, f"chat:closed:{ticket.pk}:{ticket.resolution_count}"
    elif ticket.status == Status.RESOLVED:
        event, key = EventKind.TICKET_STATUS_CHANGED, f"chat:resolved:{ticket.pk}:{ticket.resolution_count}"
    else:
        event, key = EventKind.TICKET_STATUS_CHANGED, None
    requests = (ChatRequest.objects.filter(ticket=ticket, connection__active=True).exclude(connection__outbound_channel="")
                .select_related("connection").order_by("id"))
    posts, threads = [], set()
    for request in requests:
        connection = request.connection
        if requester.username not in (connection.people or {}).values() or (connection.pk, request.thread) in threads:
            continue
        threads.add((connection.pk, request.thread))
        channel = Channel.objects.filter(
            slug=connection.outbound_channel, active=True, kind__in=[Channel.Kind.SLACK, Channel.Kind.TEAMS],
        ).first()
        if channel is None:
            continue
        posts.append(outbound_create(
            actor=None, channel=channel, body=_personal_text(event, ticket, channel.audience), ticket=ticket, event=event,
            recipient=request.thread, dedupe_key=f"{key}:{channel.pk}:{request.pk}" if key else None,
        ))
    return posts


def requester_update(*, ticket, change: str, actor: User | None = None, ref: str = "") -> OutboundPost | None:
    """One change on a ticket, told to its requester on the external channel they chose (if any)."""
    requester = ticket.requester
    if actor is not None and actor.pk == requester.pk or not requester.is_active:
        return None
    preference = (
        ExternalChannelPreference.objects.select_related("channel")
        .filter(user_id=requester.pk, channel__active=True, channel__offered_to_requesters=True).first()
    )
    if preference is None:
        return None
    channel = preference.channel
    event = PERSONAL_EVENTS.get(change, EventKind.TICKET_STATUS_CHANGED)
    if event == EventKind.TICKET_REPLIED:
        dedupe = f"{event}:{ref}:{channel.pk}" if ref else None
    elif event == EventKind.TICKET_STATUS_CHANGED:
        dedupe = None  # a ticket may pass through the same status more than once
    else:
        dedupe = f"{event}:{ticket.pk}:{ticket.resolution_count}:{channel.pk}"
    return outbound_create(
        actor=None, channel=channel, body=_personal_text(event, ticket, channel.audience), ticket=ticket, event=event,
        recipient=requester.email if channel.kind == Channel.Kind.EMAIL else "", dedupe_key=dedupe,
    )


@transaction.atomic
def external_channel_set(*, actor: User, channel_id) -> Channel | None:
    """A person chooses where to hear that their ticket was closed (or clears the choice)."""
    channel = None
    if channel_id not in (None, ""):
        channel = selectors.offered_channels().filter(pk=int(channel_id) if str(channel_id).isdecimal() else -1).first()
        if channel is None:
            raise ApplicationError("Choose one of the channels offered.",
                                   errors={"external_channel": ["This channel is not offered for ticket updates."]})
    ExternalChannelPreference.objects.update_or_create(user=actor, defaults={"channel": channel})
    return channel


# --- inbound listening --------------------------------------------------------------------------


@transaction.atomic
def listening_source_create(*, actor: User, name: str, kind: str, url: str = "", secret: str = "") -> ListeningSource:
    _require_admin(actor)
    errors = {}
    if not isinstance(name, str) or not name.strip() or len(name) > 120:
        errors["name"] = ["Give the source a name."]
    elif ListeningSource.objects.filter(name__iexact=name.strip()).exists():
        errors["name"] = ["A source with this name exists."]
    if kind not in ListeningSource.Kind.values:
        errors["kind"] = ["Choose feed or webhook."]
    if kind == ListeningSource.Kind.FEED:
        try:
            URLValidator(schemes=["http", "https"])(url or "")
        except ValidationError:
            errors["url"] = ["Give the feed's http(s) address."]
        else:
            if problem := safe_urls.address_problem(url):
                errors["url"] = [problem]
    if kind == ListeningSource.Kind.WEBHOOK and (not isinstance(secret, str) or len(secret) < 16):
        errors["secret"] = ["Give a shared secret of at least 16 characters."]
    if errors:
        raise ApplicationError("The source could not be saved.", errors=errors)
    return ListeningSource.objects.create(name=name.strip(), kind=kind, url=url or "", secret=secret or "")


@transaction.atomic
def listening_rule_create(*, actor: User, label: str, keywords) -> ListeningRule:
    _require_admin(actor)
    errors: dict = {}
    words = _str_list(keywords, "keywords", errors)
    if not words:
        errors["keywords"] = ["Give at least one keyword."]
    if not isinstance(label, str) or not label.strip():
        errors["label"] = ["Give the rule a label."]
    if errors:
        raise ApplicationError("The rule could not be saved.", errors=errors)
    return ListeningRule.objects.create(label=label.strip()[:80], keywords=words)


_analyzer = None


def sentiment(text: str) -> float:
    global _analyzer
    if _analyzer is None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        _analyzer = SentimentIntensityAnalyzer()
    return round(_analyzer.polarity_scores(text or "")["compound"], 4)


def _ingest(source: ListeningSource, *, external_id: str, title: str = "", body: str = "", url: str = "", author: str = "",
            published_at=None, rules: list[ListeningRule] | None = None) -> ListeningItem | None:
    # Text from outside may carry NUL characters, which PostgreSQL cannot store and which mean nothing.
    external_id, title, body, url, author = (
        (value or "").replace("\x00", "") for value in (external_id, title, body, url, author))
    external_id = (external_id or url or hashlib.sha256(f"{title}\n{body}".encode()).hexdigest())[:500]
    if ListeningItem.objects.filter(source=source, external_id=external_id).exists():
        return None
    text = f"{title}\n{body}"
    rules = rules if rules is not None else list(ListeningRule.objects.filter(active=True))
    labels = [r.label for r in rules if any(engine.term_re(k).search(text) for k in r.keywords if k.strip())]
    score = sentiment(text)
    if score <= settings.LISTENING_NEGATIVE_THRESHOLD:
        labels.append("negative")
    try:
        URLValidator(schemes=["http", "https"])(url or "")
    except ValidationError:
        url = ""
    return ListeningItem.objects.create(
        source=source, external_id=external_id, title=(title or "")[:300], body=(body or "")[:10_000], url=url[:1000],
        author=(author or "")[:200], published_at=published_at, sentiment=score, labels=labels, on_wall=bool(labels),
    )


LISTENING_MAX_BYTES = 5 * 1024 * 1024
FEED_UNREACHABLE = "Could not reach the feed."


def _fetch_feed(url: str) -> bytes:
    """GET a feed through the address guard: every redirect hop vetted, at most
    OUTBOUND_MAX_REDIRECTS of them, at most LISTENING_MAX_BYTES read."""
    import httpx

    timeout = httpx.Timeout(settings.POLICIES_HTTP_TIMEOUT, connect=settings.POLICIES_CONNECT_TIMEOUT)
    with safe_urls.client(timeout=timeout, follow_redirects=True, headers={"User-Agent": "ServiceDesk-listening/1"}) as client:
        with client.stream("GET", url) as response:
            response.raise_for_status()
            content = bytearray()
            for chunk in response.iter_bytes():
                content += chunk
                if len(content) > LISTENING_MAX_BYTES:
                    raise ValueError("the feed is too large")
            return bytes(content)


def _feed_error(exc: Exception) -> str:
    """What the source records: the HTTP status of a vetted feed, otherwise one generic text (the
    network error itself would tell which ports answer where)."""
    import httpx

    if isinstance(exc, httpx.HTTPStatusError):
        return f"{FEED_UNREACHABLE} It answered HTTP {exc.response.status_code}."
    if isinstance(exc, (httpx.HTTPError, httpx.InvalidURL, safe_urls.RefusedAddress)):
        return FEED_UNREACHABLE
    return "Could not read the feed."


def listening_poll(*, source_id: int | None = None) -> int:
    """Read every active feed source (or one) and keep the new entries. Returns how many."""
    import feedparser

    sources = ListeningSource.objects.filter(active=True, kind=ListeningSource.Kind.FEED)
    if source_id is not None:
        sources = sources.filter(pk=source_id)
    rules = list(ListeningRule.objects.filter(active=True))
    added = 0
    for source in sources:
        error = ""
        try:
            parsed = feedparser.parse(_fetch_feed(source.url))
            with transaction.atomic():
                for entry in parsed.entries[:200]:
                    published = None
                    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
                    if stamp:
                        published = datetime(*stamp[:6], tzinfo=ZoneInfo("UTC"))
                    item = _ingest(
                        source, external_id=entry.get("id") or entry.get("link") or "", title=entry.get("title", ""),
                        body=re.sub(r"<[^>]+>", " ", entry.get("summary", "")).strip(), url=entry.get("link", ""),
                        author=entry.get("author", ""), published_at=published, rules=rules,
                    )
                    added += item is not None
        except Exception as exc:  # noqa: BLE001 - one broken feed does not stop the others
            error = _feed_error(exc)
            logger.warning("polling listening source %s failed: %s: %s", source.pk, type(exc).__name__, exc)
        ListeningSource.objects.filter(pk=source.pk).update(last_polled_at=timezone.now(), last_error=error)
    return added


def signature_valid(*, secret: str, raw_body: bytes, header: str) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, (header or "").strip())


@transaction.atomic
def listening_webhook_receive(*, source_id, raw_body: bytes, signature: str) -> list[ListeningItem]:
    """A signed mention: checked against the source's secret before anything is read or stored."""
    source = ListeningSource.objects.filter(pk=source_id, kind=ListeningSource.Kind.WEBHOOK, active=True).first() \
        if str(source_id).isdecimal() else None
    if source is None:
        raise NotVisible()
    if not signature:
        raise ApplicationError("Sign the body with the shared secret (X-Signature-256: sha256=...).", status=401)
    if not signature_valid(secret=source.secret, raw_body=raw_body, header=signature):
        raise ApplicationError("The signature does not match.", status=403)
    try:
        payload = json.loads(raw_body or b"null")
    except ValueError:
        raise ApplicationError("Send JSON.") from None
    entries = payload.get("items") if isinstance(payload, dict) and "items" in payload else [payload]
    if not isinstance(entries, list) or not all(isinstance(e, dict) and isinstance(e.get("text", ""), str) for e in entries):
        raise ApplicationError("Send {id, text, url, author} or {items: [...]}.", errors={"text": ["Give the mention's text."]})
    rules = list(ListeningRule.objects.filter(active=True))
    items = []
    for entry in entries[:100]:
        if not str(entry.get("text", "")).strip():
            raise ApplicationError("A mention needs its text.", errors={"text": ["This field may not be blank."]})
        item = _ingest(source, external_id=str(entry.get("id") or ""), title=str(entry.get("title") or "")[:300],
                       body=entry["text"], url=str(entry.get("url") or ""), author=str(entry.get("author") or ""), rules=rules)
        if item is not None:
            items.append(item)
    return items


@transaction.atomic
def listening_item_to_ticket(*, actor: User, item_id):
    """An agent turns what was heard into an incident; the ticket links back to the source."""
    if not selectors.can_listen(actor):
        raise Forbidden("Only the service desk turns mentions into tickets.")
    item = ListeningItem.objects.select_for_update(of=("self",)).select_related("source").filter(pk=item_id).first() \
        if str(item_id).isdecimal() else None
    if item is None:
        raise NotVisible()
    if item.ticket_id:
        return item.ticket
    first_line = item.body.strip().splitlines()[0] if item.body.strip() else ""
    summary = (item.title or first_line or "A mention").strip()
    source = f"[{item.source.name}]({item.url})" if item.url else item.source.name
    description = f"{item.body}\n\n---\nHeard on {source}" + (f" from {item.author}" if item.author else "") + \
        f" (sentiment {item.sentiment:+.2f})."
    ticket = ticket_create(actor=actor, kind=Kind.INCIDENT, title=f"Heard: {summary}"[:200], description=description)
    item.ticket = ticket
    item.save(update_fields=["ticket"])
    return ticket


# --- internal data-loss prevention --------------------------------------------------------------


# What a flag calls the object a text was written in, where the model's own name says it badly.
FLAG_KINDS = {"feeds.postcomment": "feeds.comment", "communities.answercomment": "communities.answer_comment"}
# How the author is told what was written in: "your comment", "your ticket's title".
WRITTEN_IN = {
    "tickets.ticket": "ticket", "tickets.comment": "reply", "feeds.post": "post", "feeds.comment": "comment",
    "communities.question": "question", "communities.answer": "answer", "communities.answer_comment": "comment",
    "communities.article": "article", "communities.idea": "idea", "communities.poll": "poll",
}


def _written_in(obj) -> tuple[str, str]:
    """The flag's kind and a link to where the text is, for any object people write in."""
    label = f"{obj._meta.app_label}.{obj._meta.model_name}"
    kind = FLAG_KINDS.get(label, label)
    if hasattr(obj, "get_absolute_url"):
        return kind, obj.get_absolute_url()
    if kind == "feeds.post":
        return kind, f"/posts/{obj.pk}/"
    if kind == "feeds.comment":
        return kind, f"/posts/{obj.post_id}/"
    if kind == "tickets.comment":
        return kind, f"{obj.ticket.get_absolute_url()}#comment-{obj.pk}"
    if kind == "communities.answer":
        return kind, f"{obj.question.get_absolute_url()}#answer-{obj.pk}"
    if kind == "communities.answer_comment":
        return kind, f"{obj.answer.question.get_absolute_url()}#answer-{obj.answer_id}"
    return kind, ""


def text_scan(*, author, text: str, obj, field: str) -> DlpFlag | None:
    """Subscribed to `hooks.text_written`: every text people write is scanned (warn, never block)."""
    kind, url = _written_in(obj)
    return dlp_scan(author=author, kind=kind, object_id=obj.pk, text=text, url=url, field=field)


def dlp_scan(*, author: User | None, kind: str, object_id, text: str, url: str = "", field: str = "") -> DlpFlag | None:
    """Scan something said inside the product; on a hit, flag it to reviewers and tell the author
    privately what looked sensitive. Never blocks: the text stays as written.

    Runs in the writing service's transaction (through `hooks.text_written`)."""
    findings = detectors.find_personal_data(text or "", public_hosts=_public_hosts(), internal_domains=_internal_domains())
    if not findings:
        return None
    flag = DlpFlag.objects.create(
        kind=kind, object_id=str(object_id), url=url[:300], author=author, field=field[:32],
        findings=[{"kind": f.kind, "label": detectors.LABELS[f.kind], "sample": f.masked} for f in findings],
    )
    people = list(selectors.reviewers().exclude(pk=author.pk if author else None))
    what = ", ".join(detectors.describe(findings))
    noun = kind.split(".")[-1].replace("_", " ")
    if people:
        activity_publish(
            actor=None, verb="flagged", obj=ObjectRef("dlp_flag", str(flag.pk), f"Possible personal data in {kind}"),
            audience=Audience.of(users=[p.pk for p in people]),
            summary=f"Possible {what} in {kind.replace('.', ' ')} by {author.display_name if author else 'someone'}",
            notify=people,
            notification=NotificationSpec(kind="policies.dlp", text=f"Possible {what} in a {noun}", url="/communications/flags/"),
        )
    if author is not None and author.is_active:
        place = WRITTEN_IN.get(kind, noun)
        where = f"your {place}'s {field}" if field and field != "body" else f"your {place}"
        activity_publish(
            actor=None, verb="flagged_own", obj=ObjectRef("dlp_flag", str(flag.pk), f"Possible personal data in {where}"),
            audience=Audience.of(users=[author.pk]), summary=f"Possible {what} in {where}", notify=[author],
            notification=NotificationSpec(
                kind="policies.dlp_own", url=url or "/",
                text=f"What you wrote in {where} may contain {what}. It was posted as written; edit it out if it should "
                     f"not be there.",
            ),
        )
    return flag


@transaction.atomic
def dlp_flag_dismiss(*, actor: User, flag_id) -> DlpFlag:
    _require_reviewer(actor)
    flag = DlpFlag.objects.select_for_update().filter(pk=flag_id).first() if str(flag_id).isdecimal() else None
    if flag is None:
        raise NotVisible()
    if flag.status == DlpFlag.Status.OPEN:
        flag.status, flag.reviewed_by, flag.reviewed_at = DlpFlag.Status.DISMISSED, actor, timezone.now()
        flag.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    return flag
