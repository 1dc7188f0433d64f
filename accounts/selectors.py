from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from gamification.selectors import standing_for
from servicedesk.errors import NotVisible

from .devices import describe as describe_device
from .models import ApiToken, LoginRecord, SecurityReport, User, api_token_digest


def login_history(user: User) -> QuerySet[LoginRecord]:
    """Only ever the caller's own attempts."""
    return (
        LoginRecord.objects.filter(user=user)
        .annotate(reported=Exists(SecurityReport.objects.filter(login=OuterRef("pk"))))
        .order_by("-id")
    )


def login_history_described(user: User, *, limit: int = 100) -> list[LoginRecord]:
    """The caller's recent attempts, each with `device_name` ("Firefox 121 on Ubuntu") and
    `new_device`: a successful password sign-in from a browser that was not one of the account's
    remembered devices at the time (accounts.guard remembers a device after its first sign-in)."""
    return logins_described(list(login_history(user)[:limit]))


def logins_described(rows: list[LoginRecord]) -> list[LoginRecord]:
    for row in rows:
        row.device_name = describe_device(row.user_agent)
        row.new_device = row.success and row.method == LoginRecord.Method.PASSWORD and not row.device
    return rows


def user_visible(*, viewer: User, username: str) -> User:
    user = User.objects.select_related("team").filter(username=username, is_active=True).first()
    if user is None or not viewer.is_authenticated:
        raise NotVisible()
    return user


def account_named(username: str, *, active_only: bool = True) -> User | None:
    """The account with that username (a leading "@" as people type it is ignored), or None."""
    accounts = User.objects.filter(username=username.strip().lstrip("@"))
    if active_only:
        accounts = accounts.filter(is_active=True)
    return accounts.first()


def user_profile(*, viewer: User, user: User) -> dict:
    standing = standing_for([user])[user.pk]
    profile = {
        "id": user.pk,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "team": {"id": user.team.pk, "name": user.team.name} if user.team else None,
        "title": user.title,
        "location": user.location,
        "avatar": user.avatar.url if user.avatar else None,
        "expertise_tags": user.expertise_tags,
        "points": standing.points,
        "level": standing.level,
        "badges": standing.badges,
        "communities": [],
    }
    if viewer.pk == user.pk or viewer.is_agent:
        profile["email"] = user.email
    return profile


def api_token_by_key(key: str) -> ApiToken | None:
    """The token row for a raw key (looked up by its SHA-256 digest), revoked ones excluded."""
    if not key or len(key) > 200:
        return None
    return ApiToken.objects.select_related("user").filter(key_hash=api_token_digest(key), revoked_at__isnull=True).first()
