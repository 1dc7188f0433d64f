"""Notification preferences and the daily digest."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from servicedesk.errors import ApplicationError

from .. import notification_kinds
from ..models import Notification, NotificationPreference, OutboxMessage
from .enqueueing import outbox_enqueue
from .mail import _mail_connection, mail_address_suppressed


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
