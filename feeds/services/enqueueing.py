"""Putting work on the outbox: rows written in the transaction, dispatched to workers on commit."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from servicedesk import after_response

from ..models import Notification, OutboxMessage

logger = logging.getLogger(__name__)


def quiet_until(user: User, now) -> object | None:
    """When the person's quiet hours end, if `now` falls inside them."""
    start, end = user.quiet_hours_start, user.quiet_hours_end
    if start is None or end is None or start == end:
        return None
    try:
        tz = ZoneInfo(user.time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    local = now.astimezone(tz)
    t = local.time()
    inside = start <= t < end if start < end else (t >= start or t < end)
    if not inside:
        return None
    end_at = datetime.combine(local.date(), end, tzinfo=tz)
    if end_at <= local:
        end_at = datetime.combine(local.date() + timedelta(days=1), end, tzinfo=tz)
    return end_at


def _outbox_notification_emails(notifications: list[Notification], *, urgent: bool = False) -> None:
    now = timezone.now()
    rows = []
    for n in notifications:
        person = n.recipient
        if not getattr(n, "wants_email", True) or not person.email or not person.email_notifications:
            continue
        if person.email_digest and not urgent:
            continue  # the daily digest carries it
        due = None if urgent else quiet_until(person, now)
        rows.append(
            OutboxMessage(
                key=f"notification:{n.pk}:email",
                kind=OutboxMessage.Kind.EMAIL,
                payload={"notification_id": n.pk},
                next_attempt_at=due or now + timedelta(seconds=settings.OUTBOX_SWEEP_GRACE_SECONDS),
            )
        )
    if rows:
        outbox_enqueue(rows)


def outbox_enqueue(rows: list[OutboxMessage]) -> list[OutboxMessage]:
    """Store outbox rows in the caller's transaction and ask a worker to deliver them on commit."""
    created = OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True)
    keys = [row.key for row in created]
    transaction.on_commit(lambda: _dispatch_outbox_soon(keys))
    return created


def _dispatch_outbox_soon(keys: list[str]) -> None:
    """Inside a request under the ASGI handler, once its response has been sent (the rows are
    committed: were the process to die first, the sweep would send them); elsewhere now. Workers
    that start on a big incident's chunks no longer share the cores with the request's answer."""
    if not after_response.defer_sync(lambda: _dispatch_outbox(keys)):
        _dispatch_outbox(keys)


def _dispatch_outbox(keys: list[str]) -> None:
    # Rows held back (quiet hours) are left to the sweep, which sends them when they are due.
    horizon = timezone.now() + timedelta(seconds=settings.OUTBOX_SWEEP_GRACE_SECONDS + 1)
    pending = OutboxMessage.objects.filter(key__in=keys, status=OutboxMessage.Status.PENDING, next_attempt_at__lte=horizon)
    _enqueue_deliveries(list(pending.order_by("id").values_list("id", "kind")))


def _delivery_batches(rows: list[tuple[int, str]]) -> list[list[int]]:
    """E-mails in batches of OUTBOX_EMAIL_BATCH (one task, one mail connection each); a fan-out
    or a delivery chunk is a task of its own."""
    emails = [pk for pk, kind in rows if kind == OutboxMessage.Kind.EMAIL]
    size = max(1, settings.OUTBOX_EMAIL_BATCH)
    batches = [[pk] for pk, kind in rows if kind != OutboxMessage.Kind.EMAIL]
    batches += [emails[i:i + size] for i in range(0, len(emails), size)]
    return batches


def _enqueue_deliveries(rows: list[tuple[int, str]]) -> int:
    """Ask workers to deliver these rows; returns how many batches were enqueued. Stops at the
    first broker failure: every row is committed, so the sweep sends the rest later."""
    from ..tasks import outbox_deliver, outbox_deliver_batch

    batches = _delivery_batches(rows)
    emails = {pk for pk, kind in rows if kind == OutboxMessage.Kind.EMAIL}
    for done, batch in enumerate(batches):
        # E-mails wait for the deliveries queued with them: a worker child that frees up takes a
        # chunk of the next big incident's feed entries and notifications before more e-mail.
        options = {"retry": True, "retry_policy": settings.OUTBOX_PUBLISH_RETRY_POLICY,
                   **({"priority": settings.OUTBOX_EMAIL_PRIORITY} if batch[0] in emails else {})}
        try:
            if len(batch) == 1:
                outbox_deliver.apply_async((batch[0],), **options)
            else:
                outbox_deliver_batch.apply_async((batch,), **options)
        except Exception:  # noqa: BLE001 - the sweep re-sends anything not enqueued
            # The broker is unreachable: stop here rather than wait once per batch.
            logger.warning(
                "could not enqueue outbox messages %s; the sweep will send them and %s more batches",
                batch[:5], len(batches) - done - 1, exc_info=True,
            )
            return done
    return len(batches)
