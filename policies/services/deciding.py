"""Deciding a post: the engine applied to the channel's policies, previews, drafts and review."""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from servicedesk.errors import ApplicationError, Forbidden, NotVisible
from tickets.models import Service
from tickets.selectors import can_see

from .. import engine, selectors
from ..models import AuditEntry, Channel, EventKind, OutboundPost, OutboundStatus, Policy
from ._common import ANNOUNCEMENTS, STATUS_FOR, _audit, _require_reviewer

logger = logging.getLogger(__name__)


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
        from ..tasks import outbound_deliver

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
