"""Writes of the event spine. Every other domain publishes through `activity_publish`."""
from __future__ import annotations

import contextvars
import hashlib
import logging
import re
import secrets
import time
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from accounts.models import User
from servicedesk import hooks, ratelimit
from servicedesk.errors import ApplicationError, Forbidden, NotVisible
from servicedesk.text import one_line

from . import fanout, live, live_tickets, mail_threads, notification_kinds, selectors
from .audience import Audience
from .models import (
    Activity,
    ActivityAudience,
    ActivityTag,
    Follow,
    MailSent,
    MailSuppression,
    Mute,
    Notification,
    NotificationPreference,
    OutboxMessage,
)
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
        data={**(data or {}), **({"actor_username": actor.username} if actor else {})},
    )
    tags = sorted({str(t) for t in (data or {}).get("tags", [])})
    if tags:
        ActivityTag.objects.bulk_create([ActivityTag(activity=activity, tag=t) for t in tags])
    ActivityAudience.objects.bulk_create(
        [ActivityAudience(activity=activity, user_id=uid) for uid in sorted(audience.users)]
        + [ActivityAudience(activity=activity, group=g) for g in sorted(audience.groups)]
    )

    candidates: list = []
    if notification is not None:
        candidates = _notify_candidates(notify, actor)
    addressed = sorted(audience.users)
    deferred = max(len(candidates), len(addressed)) > settings.FANOUT_INLINE_MAX
    spec = None
    if notification is not None:
        kind = notification_kinds.info(notification.kind)
        spec = {
            "kind": notification.kind, "text": notification.text, "url": notification.url,
            "coalesce_key": _coalesce_key(kind_name=notification.kind, kind=kind, actor=actor, url=notification.url),
        }

    stream_names = [s for s in (activity.stream, activity.target_stream) if s] + [f"tag:{t}" for t in tags]
    payload = activity_payload(activity, actor_username=actor.username if actor else None)
    if deferred:
        # Many people: the commit sends one message per stream (every subscriber at once) and
        # workers do the per-person part in chunks, each chunk an outbox row of its own.
        _timeline_write(activity, audience, addressed_now=False)
        _deliveries_enqueue(activity, addressed=addressed, notify_ids=[p if isinstance(p, int) else p.pk for p in candidates], spec=spec)
        messages = live.activity_messages(payload=payload, audience=audience.as_payload(), recipients=[], stream_names=stream_names)
    else:
        if candidates and isinstance(candidates[0], int):
            candidates = list(User.objects.filter(pk__in=candidates).order_by("pk"))
        _timeline_write(activity, audience)
        messages = live.activity_messages(
            payload=payload, audience=audience.as_payload(), recipients=addressed, stream_names=stream_names,
        )
        if spec is not None:
            messages += _notify_people(activity=activity, actor=actor, audience=audience, people=candidates, spec=spec)
    transaction.on_commit(lambda: live.send_many(messages))
    return activity


def _notify_candidates(notify, actor: User | None) -> list:
    """The distinct people to tell, the actor left out: User objects, or just their ids when
    `notify` is a queryset (so a big follower list is never loaded in the request)."""
    from django.db.models import QuerySet

    if isinstance(notify, QuerySet):
        ids = notify.exclude(pk=actor.pk) if actor is not None else notify
        return sorted(set(ids.values_list("pk", flat=True)))
    seen: set[int] = set()
    out = []
    for person in notify:
        if person.pk in seen or (actor is not None and person.pk == actor.pk):
            continue
        seen.add(person.pk)
        out.append(person)
    return out


def _notify_people(*, activity: Activity, actor: User | None, audience: Audience, people: list, spec: dict) -> list:
    """Notifications (and their e-mail rows) for these people, those the audience admits and whose
    settings want it. Returns the live messages to send once committed."""
    kind = notification_kinds.info(spec["kind"])
    people = fanout.admitted_people(audience, people)
    if not people:
        return []
    prefs = {
        p.user_id: p
        for p in NotificationPreference.objects.filter(kind=spec["kind"], user_id__in=[p.pk for p in people])
    }
    notes = []
    for person in people:
        pref = prefs.get(person.pk)
        in_app = pref.in_app if pref else kind.in_app
        email = pref.email if pref else kind.email
        if not (in_app or email):
            continue
        note = Notification(
            recipient=person, kind=spec["kind"], text=spec["text"][:500], url=spec["url"],
            activity=activity, read=not in_app, actor=actor, coalesce_key=spec["coalesce_key"],
        )
        note.wants_email = email
        notes.append(note)
    notifications, merged = _notifications_write(notes, base_text=spec["text"])
    _outbox_notification_emails(notifications, urgent=kind.urgent)
    # Every stored notification goes out, read ones (in-app turned off: e-mail only) included:
    # the notifications page lists them and a resume replays them, so the live list must too.
    # The client shows a toast and counts unread only for unread ones.
    messages = [live.notification_message(user_id=n.recipient_id, payload=notification_payload(n)) for n in notifications]
    if merged:
        # A repeat is no new notification (no toast); the badge still shows it unread again.
        # Which rows came back unread, so a tab showing what they point to reads them at once.
        again: dict[int, list[dict]] = {}
        for row in merged:
            if not row.read:
                again.setdefault(row.recipient_id, []).append({"id": row.pk, "url": row.url})
        messages += [live.unread_message(user_id=uid, count=n, again=again.get(uid))
                     for uid, n in _unread_counts([m.recipient_id for m in merged]).items()]
    return messages


def _deliveries_enqueue(activity: Activity, *, addressed: list[int], notify_ids: list[int], spec: dict | None) -> None:
    """One outbox row per FANOUT_CHUNK people: their feed entries, personal live pushes,
    notifications and e-mails, done by a worker. Each chunk is delivered once (the row is locked
    and marked sent in the transaction that writes its rows)."""
    addressed_set, notify_set = set(addressed), set(notify_ids) if spec is not None else set()
    people = sorted(addressed_set | notify_set)
    size = max(1, settings.FANOUT_CHUNK)
    due = timezone.now() + timedelta(seconds=settings.OUTBOX_SWEEP_GRACE_SECONDS)
    rows = []
    for number, start in enumerate(range(0, len(people), size)):
        chunk = people[start:start + size]
        rows.append(OutboxMessage(
            key=f"deliver:{activity.pk}:{number}", kind=OutboxMessage.Kind.DELIVER, next_attempt_at=due,
            payload={
                "activity_id": activity.pk,
                "addressed": [u for u in chunk if u in addressed_set],
                "notify": [u for u in chunk if u in notify_set],
                "notification": spec,
            },
        ))
    if rows:
        outbox_enqueue(rows)


def _deliver_chunk(message: OutboxMessage) -> None:
    activity = Activity.objects.select_related("actor").filter(pk=message.payload["activity_id"]).first()
    if activity is None:
        return
    # The audience as it stands now: access narrowed since publishing is not widened again.
    rows = list(ActivityAudience.objects.filter(activity=activity).values_list("user_id", "group"))
    audience = Audience.of(users=[u for u, _ in rows if u is not None], groups=[g for _, g in rows if g])
    addressed = [uid for uid in message.payload.get("addressed", []) if uid in audience.users]
    if addressed:
        # The activity is committed already: its personal pushes go first, before this chunk's
        # writes, so open sockets hear of it without waiting for notifications and e-mails.
        # A chunk delivered again pushes again; clients and sockets drop repeats by id.
        payload = activity_payload(activity)
        live.send_many([
            (streams_user_group(uid), {"type": "live.activity", "activity": payload, "audience": None}) for uid in addressed
        ])
        _addressed_entries_write(activity, addressed)
    messages = []
    spec = message.payload.get("notification")
    notify_ids = message.payload.get("notify", [])
    if spec and notify_ids:
        people = list(User.objects.filter(pk__in=notify_ids).order_by("pk"))
        messages += _notify_people(activity=activity, actor=activity.actor, audience=audience, people=people, spec=spec)
    if messages:
        transaction.on_commit(lambda: live.send_many(messages))


def streams_user_group(user_id: int) -> str:
    from .streams import user_group_name

    return user_group_name(user_id)


def _coalesce_key(*, kind_name: str, kind: notification_kinds.KindInfo, actor: User | None, url: str) -> str:
    """The key repeats share: kind, actor, time window and (per-object kinds) the object's page."""
    window = settings.NOTIFICATION_COALESCE_SECONDS
    if not kind.coalesce or actor is None or window <= 0:
        return ""
    bucket = int(timezone.now().timestamp() // window)
    subject = "*"
    if kind.coalesce == "object":
        subject = hashlib.sha256(url.split("#", 1)[0].encode()).hexdigest()[:24]
    return f"{kind_name}:{actor.pk}:{window}:{bucket}:{subject}"[:200]


def _coalesced_text(base: str, count: int) -> str:
    suffix = f" ({count} times)"
    return base[: 500 - len(suffix)] + suffix


def _merge_repeats(notes: list[Notification], *, base_text: str) -> tuple[list[Notification], list[Notification]]:
    """Fold each note into the unread-or-not row its recipient already has for the same burst.
    Returns (merged rows, notes with nothing to merge into)."""
    if not notes:
        return [], []
    key = notes[0].coalesce_key
    existing = {
        n.recipient_id: n
        for n in Notification.objects.select_for_update()
        .filter(coalesce_key=key, recipient_id__in=[n.recipient_id for n in notes])
        .order_by("recipient_id")  # one lock order for every writer
    }
    merged, rest = [], []
    for note in notes:
        row = existing.get(note.recipient_id)
        if row is None:
            rest.append(note)
            continue
        row.count += 1
        row.text = _coalesced_text(base_text, row.count)
        row.url, row.activity, row.read = note.url, note.activity, row.read and note.read
        row.save(update_fields=["count", "text", "url", "activity", "read", "updated_at"])
        merged.append(row)
    return merged, rest


def _notifications_write(notes: list[Notification], *, base_text: str) -> tuple[list[Notification], list[Notification]]:
    """Insert the notes; repeats within a coalescing window update the existing row instead.
    Returns (new rows, merged rows): only new rows send e-mail and toasts."""
    coalescing = [n for n in notes if n.coalesce_key]
    plain = [n for n in notes if not n.coalesce_key]
    merged, fresh = _merge_repeats(coalescing, base_text=base_text)
    created = Notification.objects.bulk_create(plain)
    try:
        with transaction.atomic():
            created += Notification.objects.bulk_create(fresh)
    except IntegrityError:
        # Another request started the same burst between our look-up and insert: one at a time.
        for note in fresh:
            try:
                with transaction.atomic():
                    note.save(force_insert=True)
                created.append(note)
            except IntegrityError:
                note.pk = None
                more, _ = _merge_repeats([note], base_text=base_text)
                merged += more
    return created, merged


def _unread_counts(user_ids: list[int]) -> dict[int, int]:
    counts = dict(
        Notification.objects.filter(recipient_id__in=sorted(set(user_ids)), read=False)
        .values("recipient_id").annotate(n=Count("id")).values_list("recipient_id", "n")
    )
    return {uid: counts.get(uid, 0) for uid in sorted(set(user_ids))}


def _timeline_write(activity: Activity, audience: Audience, *, addressed_now: bool = True) -> None:
    """Addressed people get the activity in their feed now (or from their delivery chunk);
    followers get it from the fan-out task."""
    if addressed_now and audience.users:
        _addressed_entries_write(activity, sorted(audience.users))
    outbox_enqueue(
        [
            OutboxMessage(
                key=f"fanout:{activity.pk}",
                kind=OutboxMessage.Kind.FANOUT,
                payload={"activity_id": activity.pk, "audience": audience.as_payload()},
                next_attempt_at=timezone.now() + timedelta(seconds=settings.OUTBOX_SWEEP_GRACE_SECONDS),
            )
        ]
    )


def _addressed_entries_write(activity: Activity, addressed: list[int]) -> None:
    streams = fanout.streams_of(activity)
    muted_q = Q()
    for target_type, target_key in streams:
        muted_q |= Q(target_type=target_type, target_key=target_key)
    muted = set(Mute.objects.filter(muted_q, user_id__in=addressed).values_list("user_id", flat=True))
    fanout.write_entries(activity, [uid for uid in addressed if uid not in muted])


def _fan_out(message: OutboxMessage) -> None:
    activity = Activity.objects.filter(pk=message.payload["activity_id"]).first()
    if activity is not None:
        # The audience as it stands now: access narrowed since publishing (audience_restrict) is
        # not widened again by the payload written at publish time.
        rows = list(ActivityAudience.objects.filter(activity=activity).values_list("user_id", "group"))
        audience = Audience.of(users=[u for u, _ in rows if u is not None], groups=[g for _, g in rows if g])
        fanout.fan_out(activity, audience)


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
    transaction.on_commit(lambda: _dispatch_outbox(keys))
    return created


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
    from .tasks import outbox_deliver, outbox_deliver_batch

    batches = _delivery_batches(rows)
    for done, batch in enumerate(batches):
        try:
            if len(batch) == 1:
                outbox_deliver.apply_async((batch[0],), retry=True, retry_policy=settings.OUTBOX_PUBLISH_RETRY_POLICY)
            else:
                outbox_deliver_batch.apply_async((batch,), retry=True, retry_policy=settings.OUTBOX_PUBLISH_RETRY_POLICY)
        except Exception:  # noqa: BLE001 - the sweep re-sends anything not enqueued
            # The broker is unreachable: stop here rather than wait once per batch.
            logger.warning(
                "could not enqueue outbox messages %s; the sweep will send them and %s more batches",
                batch[:5], len(batches) - done - 1, exc_info=True,
            )
            return done
    return len(batches)


class _MailConnection:
    """One mail connection for a batch, opened on the first e-mail (a batch of fan-outs opens none)."""

    def __init__(self):
        self.connection = None

    def get(self):
        if self.connection is None:
            from django.core.mail import get_connection

            self.connection = get_connection(fail_silently=False)
            try:
                self.connection.open()
            except Exception:  # noqa: BLE001 - each send then tries on its own, and records its failure
                logger.warning("could not open a mail connection", exc_info=True)
        return self.connection

    def close(self):
        if self.connection is not None:
            try:
                self.connection.close()
            except Exception:  # noqa: BLE001 - every message is already recorded
                logger.warning("closing the mail connection failed", exc_info=True)


_mail: contextvars.ContextVar = contextvars.ContextVar("outbox_mail_connection", default=None)


def _mail_connection():
    holder = _mail.get()
    return holder.get() if holder is not None else None


def outbox_messages_deliver(*, message_ids: list[int]) -> int:
    """Deliver several outbox messages, each at most once, e-mails over one mail connection.
    Returns how many this call sent."""
    holder = _MailConnection()
    token = _mail.set(holder)
    try:
        return sum(1 for message_id in message_ids if outbox_message_deliver(message_id=message_id))
    finally:
        _mail.reset(token)
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
    from django.db import connection

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
    notification = (
        Notification.objects.select_related("recipient", "activity").filter(pk=message.payload["notification_id"]).first()
    )
    if notification is None or not notification.recipient.email or mail_address_suppressed(notification.recipient.email):
        return
    link = f"{settings.SITE_URL.rstrip('/')}{notification.url}" if notification.url.startswith("/") else notification.url
    body = notification.text + (f"\n\n{link}" if link else "")
    activity = notification.activity
    thread = mail_threads.thread_for(activity.object_type, activity.object_key) if activity else None
    if thread is not None:
        body += "\n\nReply to this e-mail to answer on the ticket; write above the quoted text."
    body += "\n\nYou receive this because of your notification settings in the Service Desk."
    message_id = mail_threads.message_id_for(message.key)
    MailSent.objects.get_or_create(
        message_id=message_id,
        defaults={"recipient": notification.recipient, "notification": notification,
                  "object_type": thread.object_type if thread else "", "object_key": thread.object_key if thread else ""},
    )
    EmailMessage(
        subject=mail_threads.subject_with_tag(f"[Service Desk] {one_line(notification.text)[:120]}", thread),
        body=body,
        to=[notification.recipient.email],
        headers={"X-Servicedesk-Delivery": message.key, "Message-ID": message_id, "Auto-Submitted": "auto-generated",
                 **mail_threads.thread_headers(thread)},
        connection=_mail_connection(),
    ).send(fail_silently=False)


def mail_address_suppressed(address: str) -> bool:
    return MailSuppression.objects.filter(address=address.strip().lower()).exists()


@transaction.atomic
def mail_address_suppress(*, address: str, reason: str) -> bool:
    """Stop sending mail to an address (it bounced). True when it was not suppressed before."""
    address = address.strip().lower()
    if not address or "@" not in address:
        return False
    _, created = MailSuppression.objects.get_or_create(address=address, defaults={"reason": reason[:500]})
    return created


def mail_thread_find(*, message_ids: Iterable[str]) -> MailSent | None:
    """The e-mail the desk sent that one of these Message-IDs names (the latest such), if any."""
    ids = [m.strip() for m in message_ids if m and m.strip()]
    if not ids:
        return None
    return MailSent.objects.filter(message_id__in=ids).exclude(object_type="").order_by("-id").first()


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


@transaction.atomic
def notifications_mark_read(*, actor: User, ids: Iterable[int] | None = None, all_: bool = False) -> int:
    qs = Notification.objects.filter(recipient=actor, read=False)
    read: list[int] | None = None
    if not all_:
        read = list(qs.filter(pk__in=list(ids or [])).values_list("pk", flat=True))
        qs = qs.filter(pk__in=read)
    changed = qs.update(read=True)
    if changed:
        unread = Notification.objects.filter(recipient=actor, read=False).count()
        # Every tab clears the rows read (all of them after "mark all read").
        transaction.on_commit(lambda: live.push_unread(user_id=actor.pk, count=unread, read=read, all_read=all_))
    return changed


def notifications_mark_visited(*, actor: User, path: str, unread_before: int | None = None) -> tuple[list[int], int]:
    """Visiting what notifications point to reads them: the person's unread notifications whose
    link is this page (or, for an API read, the page of the same object, `/api/v1/tickets/4/` for
    `/tickets/4/`) are marked read, and every open tab of theirs hears the new unread count and
    which rows were read once this commits. Returns (ids marked read, unread count after)."""
    pages = {path}
    if path.startswith("/api/v1/"):
        pages.add(path[len("/api/v1"):])
    # One statement whatever there is to read, so a page's query count does not depend on it.
    conditions, params = [], []
    for page in sorted(pages):
        escaped = page.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append("url = %s OR url LIKE %s ESCAPE '\\' OR url LIKE %s ESCAPE '\\'")
        params += [page, escaped + "#%", escaped + "?%"]
    table = Notification._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET read = %s WHERE recipient_id = %s AND NOT read AND ({' OR '.join(conditions)})"  # noqa: S608
            " RETURNING id",
            [True, actor.pk, *params],
        )
        ids = sorted(row[0] for row in cursor.fetchall())
    if not ids:
        return [], unread_before if unread_before is not None else selectors.notifications_unread_count(actor)
    unread = (max(0, unread_before - len(ids)) if unread_before is not None
              else selectors.notifications_unread_count(actor))
    transaction.on_commit(lambda: live.push_unread(user_id=actor.pk, count=unread, read=ids))
    return ids, unread


def live_ticket_issue(*, user: User) -> str:
    """A single-use ticket for opening one live socket (see feeds.live_tickets): no database write."""
    ratelimit.consume(actor=user, action="live_ticket")
    return live_tickets.issue(user)


def live_ticket_consume(*, key: str) -> bool:
    """Spend a live ticket: True once per ticket within its lifetime, False after (or if forged,
    expired or Redis cannot record the use)."""
    return live_tickets.spend(key)


def follow_write(*, user: User, target_type: str, target_key: str, target_id: int | None = None,
                 reason: str = "manual") -> tuple[Follow, bool]:
    """Record a follow. Domain services check who may follow what before calling this.

    Every new follow, however it came about (a manual follow, becoming assignee, commenting, "me
    too", logging a ticket, joining a community), starts the person's feed with the recent history
    of what they now follow, as far as they may see it, once the follow is committed."""
    follow, created = Follow.objects.get_or_create(
        user=user, target_type=target_type, target_key=target_key,
        defaults={"target_id": target_id, "reason": reason},
    )
    if created:
        backfill_on_commit(user_id=user.pk, target_type=target_type, target_key=target_key)
    return follow, created


# --- following, muting ------------------------------------------------------------------------


@transaction.atomic
def follow_create(*, actor: User, target_type: str, key) -> tuple[Follow, bool]:
    """Follow anything the actor may see; their feed starts with its recent history."""
    from . import walls

    wall = walls.resolve(actor, target_type, key)
    ratelimit.consume(actor=actor, action="follow")
    return follow_write(user=actor, target_type=wall.type, target_key=wall.key, target_id=wall.target_id)


def backfill_on_commit(*, user_id: int, target_type: str, target_key: str) -> None:
    """Copy a newly followed stream's recent history into the feed once the follow is saved.
    It is one small query and insert, so it runs here rather than waiting for a worker."""

    def run():
        try:
            timeline_backfill(user_id=user_id, target_type=target_type, target_key=target_key)
        except Exception:  # noqa: BLE001 - the follow stands; the history just arrives with new activity
            logger.warning("feed backfill for %s %s:%s failed", user_id, target_type, target_key, exc_info=True)

    transaction.on_commit(run)


@transaction.atomic
def follow_delete(*, actor: User, follow_id: int) -> None:
    deleted, _ = Follow.objects.filter(pk=follow_id, user=actor).delete()
    if not deleted:
        raise NotVisible()
    # Where following was what gave access, the person's open sockets lose it now.
    live.recheck_on_commit(user_ids=[actor.pk])


def timeline_backfill(*, user_id: int, target_type: str, target_key: str, limit: int = 50) -> int:
    """Copy the recent activities of a followed stream that the person may see into their feed:
    the same audience rules as the feed itself (internal notes only for staff), nothing about a
    ticket, person or tag they muted, and nothing once the follow is gone again. Safe to repeat."""
    from .models import TimelineEntry

    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return 0
    if not Follow.objects.filter(user=user, target_type=target_type, target_key=target_key).exists():
        return 0
    stream = f"{target_type}:{target_key}"
    recent = selectors.stream_activities(viewer=user, stream=stream, before=None, limit=limit)
    if not recent:
        return 0
    muted = set(Mute.objects.filter(user=user).values_list("target_type", "target_key"))
    if muted:
        recent = [activity for activity in recent if not fanout.streams_of(activity) & muted]
    TimelineEntry.objects.bulk_create(
        [TimelineEntry(user_id=user.pk, activity_id=a.pk, context=fanout.context_for(a)) for a in recent],
        ignore_conflicts=True,
    )
    return len(recent)


@transaction.atomic
def mute_set(*, actor: User, target_type: str, key, muted: bool = True) -> None:
    """Mute (or unmute) a ticket, person or tag in the actor's feed; muting also clears what is there."""
    from . import walls

    if target_type not in ("ticket", "user", "tag"):
        raise ApplicationError("Mute a ticket, a person or a tag.", errors={"type": ["Choose ticket, user or tag."]})
    wall = walls.resolve(actor, target_type, key)
    if not muted:
        Mute.objects.filter(user=actor, target_type=wall.type, target_key=wall.key).delete()
        return
    Mute.objects.get_or_create(user=actor, target_type=wall.type, target_key=wall.key)
    from .models import TimelineEntry

    TimelineEntry.objects.filter(selectors.about_condition(wall.stream), user=actor).delete()


# --- posts, comments, likes --------------------------------------------------------------------

MENTION_RE = re.compile(r"(?<![\w@])@([A-Za-z0-9_.+\-]{1,150})")
HASHTAG_RE = re.compile(r"(?<![\w&#])#([A-Za-z0-9][A-Za-z0-9_\-]{0,49})")


def _mentions_and_tags(body: str) -> tuple[list[str], list[str]]:
    mentions = sorted({m.rstrip(".") for m in MENTION_RE.findall(body)})
    tags = sorted({t.lower() for t in HASHTAG_RE.findall(body)})
    return mentions, tags


def mentions_check(*, actor: User, body: str) -> None:
    """One text may mention at most `MENTIONS_MAX` distinct people (the author aside)."""
    names = {m.rstrip(".").lower() for m in MENTION_RE.findall(body or "")} - {actor.username.lower()}
    if len(names) > settings.MENTIONS_MAX:
        message = f"Mention at most {settings.MENTIONS_MAX} people at once ({len(names)} here)."
        raise ApplicationError(message, errors={"body": [message]})


def _post_ref(post) -> ObjectRef:
    first = (post.body.strip().splitlines() or [""])[0]
    return ObjectRef("post", str(post.pk), first[:120])


def _check_body(body: str) -> str:
    if not isinstance(body, str) or not body.strip():
        raise ApplicationError("Write something first.", errors={"body": ["This field may not be blank."]})
    if len(body) > 10_000:
        raise ApplicationError("That is too long.", errors={"body": ["Keep it under 10,000 characters."]})
    return body.strip()


@transaction.atomic
def post_create(*, actor: User, wall_type: str, wall_key, body: str):
    from servicedesk import markdown

    from . import walls
    from .models import Post

    body = _check_body(body)
    wall = walls.resolve(actor, wall_type, wall_key)
    walls.require_posting(wall)
    mentions_check(actor=actor, body=body)
    ratelimit.consume(actor=actor, action="post")
    mentions, tags = _mentions_and_tags(body)
    post = Post.objects.create(
        author=actor, wall_type=wall.type, wall_key=wall.key, body=body, body_html=markdown.render(body), tags=tags
    )
    # Mentioned people hear of it only if they may see the wall.
    mentioned = fanout.admitted_people(wall.audience, User.objects.filter(username__in=mentions, is_active=True))
    addressed = {actor.pk, *(u.pk for u in mentioned)}
    owner = None
    if wall.type == "user" and wall.target_id != actor.pk:
        owner = User.objects.filter(pk=wall.target_id).first()
        if owner is not None:
            addressed.add(owner.pk)
    audience = Audience.of(users=addressed | set(wall.audience.users), groups=wall.audience.groups)
    activity = activity_publish(
        actor=actor, verb="posted", obj=_post_ref(post), target=ObjectRef(wall.type, wall.key, wall.title),
        audience=audience, summary=f"{actor.display_name} posted on {wall.title}: {body.splitlines()[0][:140]}",
        notify=mentioned, notification=NotificationSpec(
            kind="post.mention", text=f"{actor.display_name} mentioned you on {wall.title}", url=f"/posts/{post.pk}/"
        ),
        data={"post": post.pk, "tags": tags},
    )
    if owner is not None and owner not in mentioned:
        activity_publish(
            actor=actor, verb="posted_on_wall", obj=_post_ref(post), target=ObjectRef(wall.type, wall.key, wall.title),
            audience=Audience.of(users=[owner.pk]), summary=f"{actor.display_name} wrote on your wall",
            notify=[owner], notification=NotificationSpec(
                kind="post.wall", text=f"{actor.display_name} wrote on your wall", url=f"/posts/{post.pk}/"
            ),
        )
    post.activity = activity
    post.save(update_fields=["activity"])
    hooks.text_written(author=actor, text=body, obj=post, field="body")
    return post


def _wall_open_to(actor: User, post):
    """The post's wall, if the actor may still take part there (write, edit, like); a community
    moderator's removal closes it."""
    from . import walls

    wall = walls.resolve(actor, post.wall_type, post.wall_key)
    walls.require_posting(wall)
    return wall


@transaction.atomic
def post_edit(*, actor: User, post_id, body: str):
    from servicedesk import markdown

    from .models import PostRevision

    post = selectors.post_visible(viewer=actor, post_id=post_id)
    if post.author_id != actor.pk:
        raise Forbidden("Only the author edits a post.")
    _wall_open_to(actor, post)
    body = _check_body(body)
    PostRevision.objects.create(post=post, body=post.body, edited_by=actor)
    post.body, post.body_html = body, markdown.render(body)
    post.tags = _mentions_and_tags(body)[1]
    post.edited_at = timezone.now()
    post.save(update_fields=["body", "body_html", "tags", "edited_at"])
    hooks.text_written(author=actor, text=body, obj=post, field="body")
    return post


@transaction.atomic
def post_delete(*, actor: User, post_id) -> None:
    """The author or a moderator removes a post; it leaves every feed and wall."""
    post = selectors.post_visible(viewer=actor, post_id=post_id)
    if post.author_id != actor.pk and not actor.is_agent:
        raise Forbidden("Only the author or a moderator removes a post.")
    post.deleted_at = timezone.now()
    post.save(update_fields=["deleted_at"])
    Activity.objects.filter(object_type="post", object_key=str(post.pk)).delete()


@transaction.atomic
def post_comment_add(*, actor: User, post_id, body: str):
    from servicedesk import markdown

    from .models import Post, PostComment

    post = selectors.post_visible(viewer=actor, post_id=post_id)
    body = _check_body(body)
    wall = _wall_open_to(actor, post)
    ratelimit.consume(actor=actor, action="comment")
    comment = PostComment.objects.create(post=post, author=actor, body=body, body_html=markdown.render(body))
    Post.objects.filter(pk=post.pk).update(comment_count=F("comment_count") + 1)
    author = [post.author] if post.author_id != actor.pk else []
    activity_publish(
        actor=actor, verb="commented", obj=_post_ref(post), target=ObjectRef(wall.type, wall.key, wall.title),
        audience=Audience.of(users={actor.pk, post.author_id}, groups=wall.audience.groups),
        summary=f"{actor.display_name} commented on a post on {wall.title}: {body.splitlines()[0][:140]}",
        notify=author, notification=NotificationSpec(
            kind="post.comment", text=f"{actor.display_name} commented on your post", url=f"/posts/{post.pk}/"
        ),
        data={"post": post.pk, "comment": comment.pk},
    )
    hooks.text_written(author=actor, text=body, obj=comment, field="body")
    return comment


@transaction.atomic
def like_add(*, actor: User, post_id):
    from django.db import IntegrityError

    from .models import Like, Post

    post = selectors.post_visible(viewer=actor, post_id=post_id)
    if post.author_id == actor.pk:
        raise ApplicationError("You cannot like your own post.")
    _wall_open_to(actor, post)
    ratelimit.consume(actor=actor, action="like")
    try:
        with transaction.atomic():
            Like.objects.create(post=post, user=actor)
    except IntegrityError:
        return post
    Post.objects.filter(pk=post.pk).update(like_count=F("like_count") + 1)
    post.refresh_from_db(fields=["like_count"])
    hooks.like_added(post=post, actor=actor)
    activity_publish(
        actor=actor, verb="liked", obj=_post_ref(post), audience=Audience.of(users=[post.author_id]),
        summary=f"{actor.display_name} liked your post", notify=[post.author],
        notification=NotificationSpec(kind="post.like", text=f"{actor.display_name} liked your post", url=f"/posts/{post.pk}/"),
        data={"post": post.pk},
    )
    return post


@transaction.atomic
def like_remove(*, actor: User, post_id):
    from .models import Like, Post

    post = selectors.post_visible(viewer=actor, post_id=post_id)
    ratelimit.consume(actor=actor, action="like")
    deleted, _ = Like.objects.filter(post=post, user=actor).delete()
    if deleted:
        Post.objects.filter(pk=post.pk, like_count__gt=0).update(like_count=F("like_count") - 1)
        hooks.like_removed(post=post, actor=actor)
    post.refresh_from_db(fields=["like_count"])
    return post


@transaction.atomic
def audience_restrict(*, stream: str, allowed: Audience) -> int:
    """Access to an object narrowed (a ticket turned private, someone left a private community):
    its past activities stop reaching anyone the new audience does not admit, in feeds, walls,
    streams and resume alike. Returns how many feed entries were withdrawn."""
    from .models import TimelineEntry

    activity_ids = list(
        Activity.objects.filter(Q(stream=stream) | Q(target_stream=stream)).values_list("pk", flat=True)
    )
    if not activity_ids:
        return 0
    ActivityAudience.objects.filter(activity_id__in=activity_ids).exclude(group="").exclude(
        group__in=list(allowed.groups)
    ).delete()
    entries = list(
        TimelineEntry.objects.filter(activity_id__in=activity_ids).values_list("user_id", "activity_id", "user__role", "user__is_active")
    )
    # Per-user audience rows are withdrawn from everyone the new audience does not admit, whether or
    # not the activity is in their feed (someone who muted the object has no feed entry, but their
    # row would still let `resume` replay it).
    addressed = list(
        ActivityAudience.objects.filter(activity_id__in=activity_ids, user__isnull=False)
        .values_list("user_id", "user__role", "user__is_active").distinct()
    )
    people = {(uid, role if active else "") for uid, _, role, active in entries}
    people |= {(uid, role if active else "") for uid, role, active in addressed}
    kept = set(fanout.admitted(allowed, sorted(people)))
    # Whoever may still see the object itself (a private ticket's requester) keeps what they had.
    from . import streams

    others = [uid for uid, _ in people if uid not in kept]
    kept |= {u.pk for u in User.objects.filter(pk__in=others, is_active=True) if streams.may_subscribe(u, stream)}
    withdrawn = [(uid, aid) for uid, aid, _, _ in entries if uid not in kept]
    for user_id in {u for u, _ in withdrawn}:
        ids = [a for u, a in withdrawn if u == user_id]
        TimelineEntry.objects.filter(user_id=user_id, activity_id__in=ids).delete()
    ActivityAudience.objects.filter(activity_id__in=activity_ids, user__isnull=False).exclude(user_id__in=kept).delete()
    # Open sockets on the stream, and those of the people who lost it, re-check their access now.
    live.recheck_on_commit(user_ids=[uid for uid, _ in people if uid not in kept], stream_names=[stream])
    return len(withdrawn)


# --- notification preferences and the daily digest ---------------------------------------------


@transaction.atomic
def notification_preferences_set(
    *, actor: User, kinds: dict[str, dict] | None = None, email_digest: bool | None = None,
    quiet_hours_start=..., quiet_hours_end=..., time_zone: str | None = None,
) -> None:
    errors: dict[str, list[str]] = {}
    for kind, choice in (kinds or {}).items():
        if kind not in notification_kinds.KINDS:
            errors.setdefault("kinds", []).append(f"Unknown kind {kind}.")
            continue
        if not isinstance(choice, dict) or not all(isinstance(choice.get(c, True), bool) for c in ("in_app", "email")):
            errors.setdefault("kinds", []).append(f"{kind}: give in_app and email as true or false.")
    if time_zone is not None:
        try:
            ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            errors["time_zone"] = ["Unknown time zone."]
    given = (quiet_hours_start is not ..., quiet_hours_end is not ...)
    if given[0] != given[1] or (all(given) and (quiet_hours_start is None) != (quiet_hours_end is None)):
        errors["quiet_hours"] = ["Give both a start and an end (or clear both)."]
    if errors:
        raise ApplicationError("Those preferences could not be saved.", errors=errors)
    for kind, choice in (kinds or {}).items():
        default = notification_kinds.info(kind)
        NotificationPreference.objects.update_or_create(
            user=actor, kind=kind,
            defaults={"in_app": choice.get("in_app", default.in_app), "email": choice.get("email", default.email)},
        )
    fields = []
    if email_digest is not None:
        actor.email_digest = email_digest
        fields.append("email_digest")
    if quiet_hours_start is not ...:
        actor.quiet_hours_start = quiet_hours_start
        fields.append("quiet_hours_start")
    if quiet_hours_end is not ...:
        actor.quiet_hours_end = quiet_hours_end
        fields.append("quiet_hours_end")
    if time_zone is not None:
        actor.time_zone = time_zone
        fields.append("time_zone")
    if fields:
        actor.save(update_fields=fields)


def digests_send(*, now=None) -> int:
    """Queue today's digest for everyone who chose one and has unread notifications (daily)."""
    now = now or timezone.now()
    queued = 0
    for user in User.objects.filter(email_digest=True, is_active=True).exclude(email="").iterator():
        since = user.last_digest_at or now - timedelta(days=1)
        if not Notification.objects.filter(recipient=user, read=False, created_at__gt=since).exists():
            continue
        with transaction.atomic():
            outbox_enqueue([
                OutboxMessage(
                    key=f"digest:{user.pk}:{now.date().isoformat()}", kind=OutboxMessage.Kind.EMAIL,
                    payload={"digest_for": user.pk, "since": since.isoformat(), "until": now.isoformat()},
                    next_attempt_at=now,
                )
            ])
            User.objects.filter(pk=user.pk).update(last_digest_at=now)
        queued += 1
    return queued


def _send_digest(message: OutboxMessage) -> None:
    user = User.objects.filter(pk=message.payload["digest_for"], is_active=True).first()
    if user is None or not user.email or mail_address_suppressed(user.email):
        return
    since = datetime.fromisoformat(message.payload["since"])
    until = datetime.fromisoformat(message.payload["until"])
    notes = list(
        Notification.objects.filter(recipient=user, read=False, created_at__gt=since, created_at__lte=until).order_by("id")[:100]
    )
    if not notes:
        return
    base = settings.SITE_URL.rstrip("/")
    lines = [f"- {n.text}" + (f"\n  {base}{n.url}" if n.url.startswith("/") else "") for n in notes]
    EmailMessage(
        subject=f"[Service Desk] Your daily digest: {len(notes)} update{'s' if len(notes) != 1 else ''}",
        body="Here is what happened since your last digest:\n\n" + "\n".join(lines)
        + f"\n\nAll notifications: {base}/notifications/\nChange how you are told: {base}/account/notifications/",
        to=[user.email],
        headers={"X-Servicedesk-Delivery": message.key},
        connection=_mail_connection(),
    ).send(fail_silently=False)


# --- RSS/Atom tokens ---------------------------------------------------------------------------


@transaction.atomic
def feed_token_create(*, actor: User, label: str = "") -> tuple[object, str]:
    from .models import FeedToken

    if FeedToken.objects.filter(user=actor, revoked_at__isnull=True).count() >= 20:
        raise ApplicationError("You have too many feed links; revoke one first.")
    key = secrets.token_urlsafe(24)
    token = FeedToken.objects.create(user=actor, key_hash=hashlib.sha256(key.encode()).hexdigest(), label=label[:80])
    return token, key


@transaction.atomic
def feed_token_revoke(*, actor: User, token_id: int) -> None:
    from .models import FeedToken

    if not FeedToken.objects.filter(pk=token_id, user=actor, revoked_at__isnull=True).update(revoked_at=timezone.now()):
        raise NotVisible()


def feed_token_user(key: str) -> User | None:
    from .models import FeedToken

    if not key or len(key) > 100:
        return None
    token = (
        FeedToken.objects.select_related("user")
        .filter(key_hash=hashlib.sha256(key.encode()).hexdigest(), revoked_at__isnull=True)
        .first()
    )
    return token.user if token and token.user.is_active else None


# --- saved feed filters ------------------------------------------------------------------------

FEED_CONTEXTS = ("all", "tickets", "communities", "people")


def feed_filter_check(*, actor: User, context: str, about: str) -> tuple[str, str]:
    """A feed view is a context and, optionally, one thing the person follows."""
    errors = {}
    if context not in FEED_CONTEXTS:
        errors["context"] = [f"Choose one of {', '.join(FEED_CONTEXTS)}."]
    about = (about or "").strip()
    if about:
        kind, _, key = about.partition(":")
        if not key or not Follow.objects.filter(user=actor, target_type=kind, target_key=key).exists():
            errors["about"] = ["Choose something you follow."]
    if errors:
        raise ApplicationError("That feed view is not possible.", errors=errors)
    return context, about


@transaction.atomic
def saved_feed_filter_save(*, actor: User, name: str, context: str = "all", about: str = ""):
    from .models import SavedFeedFilter

    name = (name or "").strip()
    if not name or len(name) > 60:
        raise ApplicationError("Name the view.", errors={"name": ["Give a name of up to 60 characters."]})
    context, about = feed_filter_check(actor=actor, context=context, about=about)
    if SavedFeedFilter.objects.filter(user=actor).exclude(name=name).count() >= 30:
        raise ApplicationError("You have 30 saved views; delete one first.")
    saved, _ = SavedFeedFilter.objects.update_or_create(user=actor, name=name, defaults={"context": context, "about": about})
    return saved


@transaction.atomic
def saved_feed_filter_delete(*, actor: User, filter_id: int) -> None:
    from .models import SavedFeedFilter

    if not SavedFeedFilter.objects.filter(pk=filter_id, user=actor).delete()[0]:
        raise NotVisible()
