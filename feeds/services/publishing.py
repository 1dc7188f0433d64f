"""Publishing an activity: audiences, timelines, notifications and fan-out through the outbox."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import User

from .. import fanout, live, notification_kinds
from ..audience import Audience
from ..bulk_rows import audience_rows_insert
from ..models import (
    Activity,
    ActivityAudience,
    ActivityTag,
    Mute,
    Notification,
    NotificationPreference,
    OutboxMessage,
)
from ..presenters import activity_payload, notification_payload
from ._common import NotificationSpec, ObjectRef
from .enqueueing import _outbox_notification_emails, outbox_enqueue


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
    audience_rows_insert(activity_id=activity.pk, user_ids=sorted(audience.users), groups=sorted(audience.groups))

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
        # Many people: the commit sends one message per stream (every subscriber at once) and one
        # naming the addressed people (each process hands it to their sockets); workers do the
        # per-person writes in chunks, each chunk an outbox row of its own.
        _timeline_write(activity, audience, addressed_now=False)
        _deliveries_enqueue(activity, addressed=addressed, notify_ids=[p if isinstance(p, int) else p.pk for p in candidates], spec=spec)
        messages = live.activity_messages(payload=payload, audience=audience.as_payload(), recipients=addressed,
                                          stream_names=stream_names)
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
        # Their open sockets were told by the commit's broadcast; this is their feed.
        _addressed_entries_write(activity, addressed)
    messages = []
    spec = message.payload.get("notification")
    notify_ids = message.payload.get("notify", [])
    if spec and notify_ids:
        people = list(User.objects.filter(pk__in=notify_ids).order_by("pk"))
        messages += _notify_people(activity=activity, actor=activity.actor, audience=audience, people=people, spec=spec)
    if messages:
        transaction.on_commit(lambda: live.send_many(messages))


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
    now = timezone.now()
    for note in notes:
        row = existing.get(note.recipient_id)
        if row is None:
            rest.append(note)
            continue
        row.count += 1
        row.text = _coalesced_text(base_text, row.count)
        row.url, row.activity, row.read = note.url, note.activity, row.read and note.read
        row.updated_at = now
        merged.append(row)
    # The rows (locked above) that end up alike are written by one UPDATE: a burst folds the same
    # way for nearly everyone, so a reply to a thousand followers is one or two statements where
    # saving each row was most of a delivery chunk's time.
    alike: dict[tuple, list[int]] = {}
    for row in merged:
        alike.setdefault((row.count, row.text, row.url, row.activity_id, row.read), []).append(row.pk)
    for (count, text, url, activity_id, read), ids in alike.items():
        Notification.objects.filter(pk__in=ids).update(
            count=count, text=text, url=url, activity_id=activity_id, read=read, updated_at=now)
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
