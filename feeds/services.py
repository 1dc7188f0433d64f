"""Writes of the event spine. Every other domain publishes through `activity_publish`."""
from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from accounts.models import User

from . import live
from .audience import Audience, user_groups
from .models import Activity, ActivityAudience, LiveTicket, Notification, OutboxMessage
from .presenters import activity_payload, notification_payload

logger = logging.getLogger(__name__)

OUTBOX_MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class ObjectRef:
    """What an activity is about: `ObjectRef("ticket", "42", "INC-000042 Printer on fire")`."""

    type: str
    key: str
    title: str = ""

    @property
    def stream(self) -> str:
        return f"{self.type}:{self.key}"


@dataclass(frozen=True)
class NotificationSpec:
    kind: str
    text: str
    url: str = ""


@transaction.atomic
def activity_publish(
    *,
    actor: User | None,
    verb: str,
    obj: ObjectRef,
    audience: Audience,
    summary: str = "",
    target: ObjectRef | None = None,
    notify: Iterable[User] = (),
    notification: NotificationSpec | None = None,
    data: dict | None = None,
) -> Activity:
    """Write an activity, its audience, notifications and outbox rows; push live on commit.

    `notify` is narrowed to people the audience admits, and never includes the actor: nobody
    is told about what they did themselves, nor about what they may not see.
    """
    if not audience:
        raise ValueError("An activity needs an audience.")
    activity = Activity.objects.create(
        actor=actor,
        verb=verb,
        object_type=obj.type,
        object_key=str(obj.key),
        object_title=obj.title[:255],
        stream=obj.stream,
        target_type=target.type if target else "",
        target_key=str(target.key) if target else "",
        target_title=target.title[:255] if target else "",
        target_stream=target.stream if target else "",
        summary=summary,
        data=data or {},
    )
    ActivityAudience.objects.bulk_create(
        [ActivityAudience(activity=activity, user_id=uid) for uid in sorted(audience.users)]
        + [ActivityAudience(activity=activity, group=g) for g in sorted(audience.groups)]
    )

    notifications: list[Notification] = []
    if notification is not None:
        seen: set[int] = set()
        for person in notify:
            if person.pk in seen or (actor is not None and person.pk == actor.pk):
                continue
            seen.add(person.pk)
            if not audience.admits(user_id=person.pk, groups=user_groups(person)):
                continue
            notifications.append(
                Notification(
                    recipient=person,
                    kind=notification.kind,
                    text=notification.text[:500],
                    url=notification.url,
                    activity=activity,
                )
            )
        notifications = Notification.objects.bulk_create(notifications)
        _outbox_notification_emails(notifications)

    payload = activity_payload(activity, actor_username=actor.username if actor else None)
    messages = live.activity_messages(
        payload=payload,
        audience=audience.as_payload(),
        recipients=sorted(audience.users),
        stream_names=[s for s in (activity.stream, activity.target_stream) if s],
    )
    messages += [live.notification_message(user_id=n.recipient_id, payload=notification_payload(n)) for n in notifications]
    transaction.on_commit(lambda: live.send_many(messages))
    return activity


def _outbox_notification_emails(notifications: list[Notification]) -> None:
    rows = [
        OutboxMessage(
            key=f"notification:{n.pk}:email",
            kind=OutboxMessage.Kind.EMAIL,
            payload={"notification_id": n.pk},
            next_attempt_at=timezone.now() + timedelta(seconds=settings.OUTBOX_SWEEP_GRACE_SECONDS),
        )
        for n in notifications
        if n.recipient.email and n.recipient.email_notifications
    ]
    if rows:
        outbox_enqueue(rows)


def outbox_enqueue(rows: list[OutboxMessage]) -> list[OutboxMessage]:
    """Store outbox rows in the caller's transaction and ask a worker to deliver them on commit."""
    created = OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True)
    keys = [row.key for row in created]
    transaction.on_commit(lambda: _dispatch_outbox(keys))
    return created


def _dispatch_outbox(keys: list[str]) -> None:
    from .tasks import outbox_deliver

    for message_id in OutboxMessage.objects.filter(key__in=keys, status=OutboxMessage.Status.PENDING).values_list("id", flat=True):
        try:
            outbox_deliver.delay(message_id)
        except Exception:  # noqa: BLE001 - the sweep re-sends anything not enqueued
            logger.warning("could not enqueue outbox message %s; the sweep will send it", message_id, exc_info=True)


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


def outbox_sweep(*, limit: int = 200) -> int:
    """Send what is due and still pending: crashes between commit and send end up here."""
    due = list(
        OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
    )
    return sum(1 for message_id in due if outbox_message_deliver(message_id=message_id))


def _send_notification_email(message: OutboxMessage) -> None:
    notification = (
        Notification.objects.select_related("recipient").filter(pk=message.payload["notification_id"]).first()
    )
    if notification is None or not notification.recipient.email:
        return
    link = f"{settings.SITE_URL.rstrip('/')}{notification.url}" if notification.url.startswith("/") else notification.url
    body = notification.text + (f"\n\n{link}" if link else "")
    body += "\n\nYou receive this because of your notification settings in the Service Desk."
    EmailMessage(
        subject=f"[Service Desk] {notification.text[:120]}",
        body=body,
        to=[notification.recipient.email],
        headers={"X-Servicedesk-Delivery": message.key},
    ).send(fail_silently=False)


_SENDERS = {OutboxMessage.Kind.EMAIL: _send_notification_email}


@transaction.atomic
def notifications_mark_read(*, actor: User, ids: Iterable[int] | None = None, all_: bool = False) -> int:
    qs = Notification.objects.filter(recipient=actor, read=False)
    if not all_:
        qs = qs.filter(pk__in=list(ids or []))
    changed = qs.update(read=True)
    if changed:
        unread = Notification.objects.filter(recipient=actor, read=False).count()
        transaction.on_commit(lambda: live.push_unread(user_id=actor.pk, count=unread))
    return changed


def live_ticket_issue(*, user: User) -> str:
    key = secrets.token_urlsafe(32)
    LiveTicket.objects.create(
        key_hash=hashlib.sha256(key.encode()).hexdigest(),
        user=user,
        expires_at=timezone.now() + timedelta(seconds=settings.LIVE_TICKET_TTL_SECONDS),
    )
    return key


def live_ticket_consume(*, key: str) -> User | None:
    """Spend a live ticket. Each ticket opens exactly one socket, within its lifetime."""
    if not key or len(key) > 200:
        return None
    key_hash = hashlib.sha256(key.encode()).hexdigest()
    now = timezone.now()
    spent = LiveTicket.objects.filter(key_hash=key_hash, used_at__isnull=True, expires_at__gt=now).update(used_at=now)
    if spent != 1:
        return None
    ticket = LiveTicket.objects.select_related("user").get(key_hash=key_hash)
    return ticket.user if ticket.user.is_active else None
