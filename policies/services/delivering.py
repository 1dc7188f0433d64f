"""Delivering queued posts: one attempt at a time, retries with backoff, the sweep."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .. import engine, senders
from ..models import AuditEntry, DeliveryAttempt, OutboundPost, OutboundStatus
from ._common import _audit
from .deciding import _dispatch_on_commit, _lock_post, decide


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
