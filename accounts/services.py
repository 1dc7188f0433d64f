from __future__ import annotations

from collections.abc import Iterable

from axes.helpers import get_client_ip_address
from django.db import transaction
from django.http import HttpRequest
from django.utils.text import slugify
from rest_framework.authtoken.models import Token

from feeds.audience import ADMINS, Audience
from feeds.services import NotificationSpec, ObjectRef, activity_publish
from servicedesk import live_groups
from servicedesk.errors import ApplicationError, Forbidden, NotVisible
from servicedesk.queue import enqueue_on_commit

from .models import LoginRecord, Role, SecurityReport, Team, User


@transaction.atomic
def team_get_or_create(*, name: str) -> Team:
    team, _ = Team.objects.get_or_create(slug=slugify(name), defaults={"name": name})
    return team


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str | None,
    role: str = Role.END_USER,
    email: str = "",
    display_name: str = "",
    team: Team | None = None,
    title: str = "",
    location: str = "",
    expertise_tags: Iterable[str] = (),
) -> User:
    if role not in Role.values:
        raise ApplicationError("Unknown role.", errors={"role": [f"Choose one of {', '.join(Role.values)}."]})
    if User.objects.filter(username__iexact=username).exists():
        raise ApplicationError("That username is taken.", errors={"username": ["That username is taken."]})
    user = User(
        username=username,
        email=email,
        role=role,
        display_name=display_name,
        team=team,
        title=title,
        location=location,
        expertise_tags=sorted({t.strip().lower() for t in expertise_tags if t.strip()}),
        is_staff=role == Role.ADMIN,
        is_superuser=role == Role.ADMIN,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    return user


@transaction.atomic
def user_set_password(*, user: User, password: str) -> None:
    """A new password signs the account out everywhere: its sessions stop validating (Django's
    session hash) and its open live sockets are closed once this commits."""
    user.set_password(password)
    user.save(update_fields=["password"])
    live_groups.close_user_sockets_on_commit(
        user_id=user.pk, code=live_groups.CLOSE_SIGNED_OUT, reason="Your password changed. Sign in again."
    )


def _require_admin(actor: User) -> None:
    if actor.role != Role.ADMIN or not actor.is_active:
        raise Forbidden("Only admins manage accounts.")


@transaction.atomic
def user_deactivate(*, actor: User, user: User) -> User:
    """An admin switches an account off: it can no longer sign in, and its open live sockets are
    closed once this commits."""
    _require_admin(actor)
    if user.pk == actor.pk:
        raise ApplicationError("You cannot deactivate your own account.")
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
    user_access_changed(user=user, role_changed=False, deactivated=True, password_changed=False)
    return user


@transaction.atomic
def user_role_set(*, actor: User, user: User, role: str) -> User:
    """An admin changes someone's role. Their open live sockets are closed (4403) once this
    commits, so nothing the old role could see keeps arriving."""
    _require_admin(actor)
    if role not in Role.values:
        raise ApplicationError("Unknown role.", errors={"role": [f"Choose one of {', '.join(Role.values)}."]})
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.role == role:
        return user
    user.role = role
    user.is_staff = user.is_superuser = role == Role.ADMIN
    user.save(update_fields=["role", "is_staff", "is_superuser"])
    user_access_changed(user=user, role_changed=True, deactivated=False, password_changed=False)
    return user


def user_access_changed(*, user: User, role_changed: bool, deactivated: bool, password_changed: bool) -> None:
    """Called by every write that changes what an account may do (including the admin site): its
    open live sockets are closed on commit. 4401 means "sign in again", 4403 "your role changed"."""
    if deactivated or password_changed:
        reason = "Your account was deactivated." if deactivated else "Your password changed. Sign in again."
        live_groups.close_user_sockets_on_commit(user_id=user.pk, code=live_groups.CLOSE_SIGNED_OUT, reason=reason)
    elif role_changed:
        live_groups.close_user_sockets_on_commit(
            user_id=user.pk, code=live_groups.CLOSE_ROLE_CHANGED, reason="Your role changed. Reload the page."
        )


def user_signed_out(*, user: User | None, session_key: str | None) -> None:
    """A session ended (sign-out): the live sockets opened with it are closed."""
    if session_key:
        live_groups.close_session_sockets_on_commit(
            session_key=session_key, code=live_groups.CLOSE_SIGNED_OUT, reason="You signed out."
        )


def _client_ip(request: HttpRequest) -> str | None:
    try:
        return get_client_ip_address(request)
    except Exception:  # noqa: BLE001 - a malformed proxy header must not break sign-in
        return request.META.get("REMOTE_ADDR")


@transaction.atomic
def login_attempt_record(
    *, request: HttpRequest, username: str, success: bool, method: str = LoginRecord.Method.PASSWORD
) -> LoginRecord:
    """Record a sign-in attempt against the account it names (if that account exists)."""
    # What was typed is kept as evidence, less the NUL characters the database cannot store.
    username = (username or "").replace("\x00", "")
    user = User.objects.filter(username__iexact=username).first() if username else None
    record = LoginRecord.objects.create(
        user=user,
        username=username[:150],
        ip=_client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "").replace("\x00", "")[:512],
        success=success,
        method=method,
    )
    if success and user is not None:
        from .tasks import signin_check

        enqueue_on_commit(signin_check, record.pk)
    return record


def signin_is_new_device(record: LoginRecord) -> bool:
    """A successful sign-in from a device (IP + browser) this account never signed in from."""
    earlier = LoginRecord.objects.filter(user_id=record.user_id, success=True, pk__lt=record.pk)
    if not earlier.exists():
        return False  # the very first sign-in is expected, not news
    return not earlier.filter(ip=record.ip, user_agent=record.user_agent).exists()


@transaction.atomic
def signin_new_device_notify(*, login_id: int) -> bool:
    record = LoginRecord.objects.select_related("user").filter(pk=login_id, success=True).first()
    if record is None or record.user is None or not signin_is_new_device(record):
        return False
    device = record.user_agent[:80] or "an unknown device"
    where = record.ip or "an unknown address"
    activity_publish(
        actor=None,
        verb="signed_in_new_device",
        obj=ObjectRef("user", record.user.username, record.user.display_name),
        audience=Audience.of(users=[record.user.pk]),
        summary=f"New sign-in from {device} ({where})",
        notify=[record.user],
        notification=NotificationSpec(
            kind="security.sign_in",
            text=f"New sign-in to your account from {device} ({where}). Not you? Report it.",
            url="/account/sign-ins/",
        ),
        data={"login_id": record.pk},
    )
    return True


@transaction.atomic
def signin_report(*, actor: User, login_id: int, note: str = "") -> SecurityReport:
    """The person says this sign-in was not theirs: store a report and alert the admins."""
    record = LoginRecord.objects.select_for_update().filter(pk=login_id, user=actor).first()
    if record is None:
        raise NotVisible()
    if SecurityReport.objects.filter(login=record).exists():
        raise ApplicationError("You already reported this sign-in.")
    report = SecurityReport.objects.create(reporter=actor, login=record, note=note[:2000])
    report.ticket = _security_incident(actor, record, note)
    report.save(update_fields=["ticket"])
    admins = list(User.objects.filter(role=Role.ADMIN, is_active=True))
    when = record.at.strftime("%Y-%m-%d %H:%M UTC")
    activity_publish(
        actor=actor,
        verb="reported_sign_in",
        obj=ObjectRef("security_report", str(report.pk), f"Sign-in at {when}"),
        audience=Audience.of(users=[actor.pk], groups=[ADMINS]),
        summary=f"{actor.display_name} reported a sign-in at {when} from {record.ip or 'an unknown address'}",
        notify=admins,
        notification=NotificationSpec(
            kind="security.report",
            text=f"{actor.display_name} reports a sign-in that was not theirs ({when}, {record.ip or 'unknown IP'}).",
            url=report.ticket.get_absolute_url(),
        ),
    )
    return report


def _security_incident(actor: User, record: LoginRecord, note: str):
    """Open a private incident for the security team with the sign-in rows attached."""
    from tickets.services import security_incident_open

    recent = LoginRecord.objects.filter(user=actor).order_by("-id")[:10]
    rows = "\n".join(
        f"| {r.at:%Y-%m-%d %H:%M:%S} UTC | {'success' if r.success else 'failure'} | {r.ip or '-'} | "
        f"{(r.user_agent or '-').replace('|', '/')[:120]} |{' **reported**' if r.pk == record.pk else ''}"
        for r in recent
    )
    description = (
        f"{actor.display_name} reports that a sign-in to their account was not theirs.\n\n"
        f"Reported sign-in: {record.at:%Y-%m-%d %H:%M:%S} UTC from {record.ip or 'an unknown address'} "
        f"({record.user_agent or 'unknown device'}).\n\n"
        + (f"Their note: {note.strip()}\n\n" if note.strip() else "")
        + "Recent sign-in attempts on this account:\n\n| when | result | IP | device |\n|---|---|---|---|\n"
        + rows
    )
    return security_incident_open(
        reporter=actor, title=f"Suspicious sign-in reported by {actor.display_name}", description=description
    )


def auth_token_for(*, user: User) -> str:
    token, _ = Token.objects.get_or_create(user=user)
    return token.key
