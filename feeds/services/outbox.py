"""Delivering outbox rows (fan-out chunks, e-mails, digests) and the sweep that guarantees them."""

from __future__ import annotations

import contextvars
import logging
import time
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from servicedesk.text import one_line

from .. import mail_threads
from ..models import MailSent, MailSuppression, Notification, OutboxMessage
from ._common import OUTBOX_MAX_ATTEMPTS
from .enqueueing import _delivery_batches
from .mail import _mail, _mail_connection, _MailConnection, mail_address_suppressed
from .notifications import notifications_mark_read
from .preferences import _send_digest
from .publishing import _deliver_chunk, _fan_out

logger = logging.getLogger(__name__)


def outbox_messages_deliver(*, message_ids: list[int]) -> int:
    """Deliver several outbox messages, each at most once, e-mails over one mail connection.
    Returns how many this call sent.

    What the e-mails need (notifications, suppressed addresses, threads) is read once for the
    batch; each row is still locked, sent and marked sent in a transaction of its own, so a worker
    killed mid-batch sends nothing twice.
    """
    holder = _MailConnection()
    mail_token = _mail.set(holder)
    group_token = _email_group.set(_EmailGroup.read(message_ids) if len(message_ids) > 1 else None)
    try:
        return sum(1 for message_id in message_ids if outbox_message_deliver(message_id=message_id))
    finally:
        _email_group.reset(group_token)
        _mail.reset(mail_token)
        holder.close()


def outbox_message_deliver(*, message_id: int) -> bool:
    """Deliver one outbox message at most once. Returns True if this call sent it.

    The row stays locked while sending, so a concurrent task or sweep skips it; a worker killed
    mid-send rolls the lock back and the row is sent again later (nothing was sent yet).
    """
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, status=OutboxMessage.Status.PENDING)
            .first()
        )
        if message is None:
            return False
        sender = _SENDERS[message.kind]
        message.attempts += 1
        try:
            sender(message)
        except Exception as exc:  # noqa: BLE001 - recorded, retried with backoff
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if message.attempts >= OUTBOX_MAX_ATTEMPTS:
                message.status = OutboxMessage.Status.FAILED
            message.next_attempt_at = timezone.now() + timedelta(seconds=min(3600, 2**message.attempts * 5))
            message.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
            logger.warning("outbox message %s failed (attempt %s)", message.pk, message.attempts, exc_info=True)
            return False
        message.status = OutboxMessage.Status.SENT
        message.sent_at = timezone.now()
        message.last_error = ""
        message.save(update_fields=["attempts", "status", "sent_at", "last_error"])
        return True


class _EmailGroup:
    """What a batch's notification e-mails need, read in three queries instead of three per e-mail
    (and the ticket's thread tag once instead of once per e-mail)."""

    def __init__(self, notifications: dict[int, Notification], suppressed: set[str]):
        self.notifications = notifications
        self.suppressed = suppressed
        self.threads: dict[tuple[str, str], mail_threads.Thread | None] = {}

    @classmethod
    def read(cls, message_ids: list[int]) -> _EmailGroup:
        payloads = OutboxMessage.objects.filter(
            pk__in=message_ids, kind=OutboxMessage.Kind.EMAIL, status=OutboxMessage.Status.PENDING
        ).values_list("payload", flat=True)
        ids = [p["notification_id"] for p in payloads if "notification_id" in p]
        notifications = Notification.objects.select_related("recipient", "activity").in_bulk(ids) if ids else {}
        addresses = {n.recipient.email.strip().lower() for n in notifications.values() if n.recipient.email}
        suppressed = set(
            MailSuppression.objects.filter(address__in=addresses).values_list("address", flat=True)
        ) if addresses else set()
        return cls(notifications, suppressed)

    def notification(self, notification_id: int) -> tuple[Notification | None, bool]:
        """The notification and whether its address is suppressed; read alone if the batch's
        reading did not see it (a row that was not pending then)."""
        notification = self.notifications.get(notification_id)
        if notification is None:
            return _notification_alone(notification_id)
        return notification, (notification.recipient.email or "").strip().lower() in self.suppressed

    def thread_for(self, object_type: str, object_key: str):
        key = (object_type, object_key)
        if key not in self.threads:
            self.threads[key] = mail_threads.thread_for(object_type, object_key)
        return self.threads[key]


def _notification_alone(notification_id: int) -> tuple[Notification | None, bool]:
    notification = Notification.objects.select_related("recipient", "activity").filter(pk=notification_id).first()
    address = notification.recipient.email if notification else ""
    return notification, bool(address) and mail_address_suppressed(address)


_email_group: contextvars.ContextVar[_EmailGroup | None] = contextvars.ContextVar("outbox_email_group", default=None)


def outbox_sweep(*, budget_seconds: float | None = None, batch: int | None = None) -> int:
    """Send what is due and still pending: crashes between commit and send, and everything
    written while the broker was away, end up here.

    It drains in batches until nothing is due or the time budget is spent, delivering in this
    worker (the broker may still be away). One sweep at a time: a second one finds the lock
    taken and returns at once, so sweeps never pile up behind each other.
    """
    budget = settings.OUTBOX_SWEEP_BUDGET_SECONDS if budget_seconds is None else budget_seconds
    size = batch or settings.OUTBOX_SWEEP_BATCH
    deadline = time.monotonic() + budget
    with _sweep_lock() as held:
        if not held:
            return 0
        sent, after = 0, 0
        while time.monotonic() < deadline:
            due = list(
                OutboxMessage.objects.filter(
                    status=OutboxMessage.Status.PENDING, next_attempt_at__lte=timezone.now(), id__gt=after
                ).order_by("id").values_list("id", "kind")[:size]
            )
            if not due:
                break
            after = due[-1][0]
            for chunk in _delivery_batches(due):
                sent += outbox_messages_deliver(message_ids=chunk)
                if time.monotonic() >= deadline:
                    break
        return sent


@contextmanager
def _sweep_lock():
    """A session-level PostgreSQL advisory lock (no lock elsewhere: one process anyway)."""

    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_SWEEP_LOCK_ID])
        held = cursor.fetchone()[0]
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [_SWEEP_LOCK_ID])


_SWEEP_LOCK_ID = 0x5D0_0B0C


def _send_notification_email(message: OutboxMessage) -> None:
    if "digest_for" in message.payload:
        _send_digest(message)
        return
    group = _email_group.get()
    find = group.notification if group is not None else _notification_alone
    notification, suppressed = find(message.payload["notification_id"])
    address = notification.recipient.email if notification else ""
    if notification is None or not address or suppressed:
        return
    link = f"{settings.SITE_URL.rstrip('/')}{notification.url}" if notification.url.startswith("/") else notification.url
    body = notification.text + (f"\n\n{link}" if link else "")
    activity = notification.activity
    thread = None
    if activity is not None:
        thread_of = group.thread_for if group is not None else mail_threads.thread_for
        thread = thread_of(activity.object_type, activity.object_key)
    if thread is not None:
        body += "\n\nReply to this e-mail to answer on the ticket; write above the quoted text."
    body += "\n\nYou receive this because of your notification settings in the Service Desk."
    message_id = mail_threads.message_id_for(message.key)
    record = MailSent(
        message_id=message_id, recipient=notification.recipient, notification=notification,
        object_type=thread.object_type if thread else "", object_key=thread.object_key if thread else "",
    )
    # One INSERT … ON CONFLICT DO NOTHING: a retried send keeps the row its first attempt wrote.
    MailSent.objects.bulk_create([record], ignore_conflicts=True)
    EmailMessage(
        subject=mail_threads.subject_with_tag(f"[Service Desk] {one_line(notification.text)[:120]}", thread),
        body=body,
        to=[address],
        headers={"X-Servicedesk-Delivery": message.key, "Message-ID": message_id, "Auto-Submitted": "auto-generated",
                 **mail_threads.thread_headers(thread)},
        connection=_mail_connection(),
    ).send(fail_silently=False)


@transaction.atomic
def mail_replied(*, actor: User, object_type: str, object_key: str) -> int:
    """Someone answered by e-mail about an object: the notifications we e-mailed them about it are read."""
    ids = MailSent.objects.filter(
        recipient=actor, object_type=object_type, object_key=object_key, notification__isnull=False
    ).values_list("notification_id", flat=True)
    return notifications_mark_read(actor=actor, ids=list(ids))


_SENDERS = {
    OutboxMessage.Kind.EMAIL: _send_notification_email,
    OutboxMessage.Kind.FANOUT: _fan_out,
    OutboxMessage.Kind.DELIVER: _deliver_chunk,
}
