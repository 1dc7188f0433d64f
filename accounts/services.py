from __future__ import annotations

import functools
import secrets
import zoneinfo
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.text import slugify

from servicedesk import hooks, live_groups
from servicedesk.errors import ApplicationError, Forbidden, NotVisible
from servicedesk.net import client_ip
from servicedesk.queue import enqueue_on_commit

from . import guard
from .avatars import avatar_from_upload
from .models import ApiToken, LoginRecord, Role, SecurityReport, Team, User, api_token_digest


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


@transaction.atomic
def login_attempt_record(
    *,
    request: HttpRequest,
    username: str,
    success: bool,
    method: str = LoginRecord.Method.PASSWORD,
    device: str = "",
) -> LoginRecord:
    """Record a sign-in attempt against the account it names (if that account exists).

    `device` is the account's remembered device the attempt came from (`guard.signin_verdict`).
    The username is kept as the sign-in form reads it (trimmed, NFKC), so the guard counts the
    variants of one name as one.
    """
    username = guard.normalized_username(username)
    user = guard.account_for(username)
    record = LoginRecord.objects.create(
        user=user,
        username=username,
        ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "").replace("\x00", "")[:512],
        success=success,
        method=method,
        device=device if user is not None else "",
    )
    if success and user is not None:
        from .tasks import signin_check

        enqueue_on_commit(signin_check, record.pk)
    elif not success and user is not None and not device:
        failed_signins_alert(user=user, username=username)
    return record


@transaction.atomic
def failed_signins_alert(*, user: User, username: str) -> bool:
    """Tell the owner once per window that others keep failing to sign in to their account."""
    failures, _ = guard.account_failures(username)
    if failures < settings.SIGNIN_FAILURE_LIMIT:
        return False
    now = timezone.now()
    window_start = now - settings.SIGNIN_FAILURE_WINDOW
    claimed = User.objects.filter(
        Q(failed_signins_alerted_at__isnull=True) | Q(failed_signins_alerted_at__lt=window_start), pk=user.pk
    ).update(failed_signins_alerted_at=now)
    if not claimed:
        return False
    hooks.signin_failures_repeated(user=user, failures=failures)
    return True


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
    hooks.signin_from_new_device(record=record)
    return True


@transaction.atomic
def signin_report(*, actor: User, login_id: int, note: str = "") -> SecurityReport:
    """The person says this sign-in was not theirs: store the report; the subscribers of
    ``signin_reported`` open the security incident and alert the admins."""
    record = LoginRecord.objects.select_for_update().filter(pk=login_id, user=actor).first()
    if record is None:
        raise NotVisible()
    if SecurityReport.objects.filter(login=record).exists():
        raise ApplicationError("You already reported this sign-in.")
    report = SecurityReport.objects.create(reporter=actor, login=record, note=note[:2000])
    hooks.signin_reported(report=report)
    return report


@transaction.atomic
def api_token_create(*, user: User) -> tuple[ApiToken, str]:
    """A new API token for `user`: the row keeps only the key's SHA-256; the key is returned once."""
    key = secrets.token_urlsafe(32)
    now = timezone.now()
    token = ApiToken.objects.create(
        user=user, key_hash=api_token_digest(key), prefix=key[:8], created_at=now, last_used_at=now,
        expires_at=now + timedelta(hours=settings.API_TOKEN_TTL_HOURS),
    )
    # One person does not collect tokens without end: the oldest beyond the cap stop working.
    active = ApiToken.objects.filter(user=user, revoked_at__isnull=True, expires_at__gt=now).order_by("-id")
    stale = list(active.values_list("pk", flat=True)[settings.API_TOKEN_MAX_ACTIVE:])
    if stale:
        ApiToken.objects.filter(pk__in=stale).update(revoked_at=now)
    return token, key


@transaction.atomic
def api_token_rotate(*, actor: User, token: ApiToken) -> tuple[ApiToken, str]:
    """Replace the token a client authenticated with by a fresh one; the old one stops working now."""
    current = ApiToken.objects.select_for_update().filter(pk=token.pk, user=actor, revoked_at__isnull=True).first()
    if current is None or current.expires_at <= timezone.now():
        raise ApplicationError("This token can no longer be rotated.", status=401)
    current.revoked_at = timezone.now()
    current.save(update_fields=["revoked_at"])
    return api_token_create(user=actor)


@transaction.atomic
def api_token_revoke(*, actor: User, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, user=actor, revoked_at__isnull=True).update(revoked_at=timezone.now())


def api_token_used(*, token: ApiToken) -> None:
    """Note when a token was last used, at most once every few minutes per token."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


@transaction.atomic
def api_tokens_purge() -> int:
    """Forget tokens that expired or were revoked more than a week ago."""
    cutoff = timezone.now() - timedelta(days=7)
    deleted, _ = ApiToken.objects.filter(Q(expires_at__lt=cutoff) | Q(revoked_at__lt=cutoff)).delete()
    return deleted


# --- a person's own profile ------------------------------------------------------------------

PROFILE_MAX_TAGS = 15
PROFILE_TAG_MAX_LENGTH = 40


def expertise_tags_clean(raw: Iterable[str] | str) -> list[str]:
    """Tags as people type them ("VPN, Excel macros, vpn") -> ["excel macros", "vpn"]."""
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    tags = sorted({" ".join(str(item).split()).lower() for item in items if str(item).strip()})
    problems = []
    if len(tags) > PROFILE_MAX_TAGS:
        problems.append(f"List at most {PROFILE_MAX_TAGS} areas of expertise.")
    too_long = [t for t in tags if len(t) > PROFILE_TAG_MAX_LENGTH]
    if too_long:
        problems.append(f"Keep each one under {PROFILE_TAG_MAX_LENGTH} characters: {too_long[0][:20]}…")
    if problems:
        raise ApplicationError("Check your areas of expertise.", errors={"expertise_tags": problems})
    return tags


@transaction.atomic
def profile_update(
    *,
    actor: User,
    user: User,
    fields: dict,
    avatar: UploadedFile | None = None,
    avatar_remove: bool = False,
) -> User:
    """Change what a person says about themselves. Only the person may do it; every field is
    checked before anything is written, so a refusal changes nothing."""
    if actor.pk != user.pk:
        raise Forbidden("You can only edit your own profile.")
    unknown = set(fields) - PROFILE_FIELDS
    if unknown:
        raise ApplicationError(
            "Unknown profile fields.", errors={name: ["This field cannot be changed here."] for name in sorted(unknown)}
        )
    errors: dict[str, list[str]] = {}
    changes: dict = {}
    for name in ("display_name", "title", "location"):
        if name in fields:
            value = " ".join(str(fields[name] or "").split())
            if len(value) > 150:
                errors[name] = ["Keep it under 150 characters."]
            elif name == "display_name" and not value:
                errors[name] = ["Enter the name people should see."]
            else:
                changes[name] = value
    if "time_zone" in fields:
        if fields["time_zone"] not in time_zone_names():
            errors["time_zone"] = ["Choose a time zone from the list."]
        else:
            changes["time_zone"] = fields["time_zone"]
    if "expertise_tags" in fields:
        try:
            changes["expertise_tags"] = expertise_tags_clean(fields["expertise_tags"] or [])
        except ApplicationError as exc:
            errors.update(exc.errors)
    photo = None
    if avatar is not None:
        try:
            photo = avatar_from_upload(avatar)
        except ApplicationError as exc:
            errors.update(exc.errors)
    if errors:
        raise ApplicationError("Your profile was not saved. Check the fields marked below.", errors=errors)
    old_avatar = user.avatar.name if (photo is not None or avatar_remove) and user.avatar else ""
    for name, value in changes.items():
        setattr(user, name, value)
    update = list(changes)
    if photo is not None:
        user.avatar.save(photo.name, photo, save=False)
        update.append("avatar")
    elif avatar_remove and user.avatar:
        user.avatar = ""
        update.append("avatar")
    if update:
        user.save(update_fields=update)
    if old_avatar:
        storage = user.avatar.storage
        transaction.on_commit(lambda: storage.delete(old_avatar))
    return user


PROFILE_FIELDS = frozenset({"display_name", "title", "location", "expertise_tags", "time_zone"})


def time_zone_names() -> frozenset[str]:
    return _time_zone_names()


@functools.lru_cache(maxsize=1)
def _time_zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) - {"localtime", "Factory"}
