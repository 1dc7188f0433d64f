from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from servicedesk.errors import NotVisible
from servicedesk.prepared import prepared

from .devices import describe as describe_device
from .models import ApiToken, LoginRecord, SecurityReport, User, api_token_digest
from .standing import standing_for


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


def security_report_description(report: SecurityReport) -> str:
    """The body of the security incident a reported sign-in opens: the report and the account's
    ten latest sign-in attempts, the reported one marked."""
    actor, record, note = report.reporter, report.login, report.note
    recent = LoginRecord.objects.filter(user=actor).order_by("-id")[:10]
    rows = "\n".join(
        f"| {r.at:%Y-%m-%d %H:%M:%S} UTC | {'success' if r.success else 'failure'} | {r.ip or '-'} | "
        f"{(r.user_agent or '-').replace('|', '/')[:120]} |{' **reported**' if r.pk == record.pk else ''}"
        for r in recent
    )
    return (
        f"{actor.display_name} reports that a sign-in to their account was not theirs.\n\n"
        f"Reported sign-in: {record.at:%Y-%m-%d %H:%M:%S} UTC from {record.ip or 'an unknown address'} "
        f"({record.user_agent or 'unknown device'}).\n\n"
        + (f"Their note: {note.strip()}\n\n" if note.strip() else "")
        + "Recent sign-in attempts on this account:\n\n| when | result | IP | device |\n|---|---|---|---|\n"
        + rows
    )


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
    found = _token_by_digest.run(key_hash=api_token_digest(key))
    return found[0] if found else None


@prepared(text_args=("key_hash",))
def _token_by_digest(*, key_hash):
    # Every API request reads this: a fixed query, compiled once.
    return ApiToken.objects.select_related("user").filter(key_hash=key_hash, revoked_at__isnull=True).order_by("pk")[:1]


@prepared(args=("user_id",))
def _user_by_id(*, user_id):
    return User.objects.filter(pk=user_id)


def account_by_id(user_id) -> User | None:
    """The person with this id, active or not, or None: read on every request that is signed in
    and every live account check, through a query compiled once."""
    try:
        user_id = int(user_id)
    except (TypeError, ValueError):
        return None
    found = _user_by_id.run(user_id=user_id) if 0 < user_id < 2**63 else []
    return found[0] if found else None
