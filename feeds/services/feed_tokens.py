"""RSS/Atom feed tokens."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from servicedesk.errors import ApplicationError, NotVisible


@transaction.atomic
def feed_token_create(*, actor: User, label: str = "") -> tuple[object, str]:
    from ..models import FeedToken

    if FeedToken.objects.filter(user=actor, revoked_at__isnull=True).count() >= 20:
        raise ApplicationError("You have too many feed links; revoke one first.")
    key = secrets.token_urlsafe(24)
    token = FeedToken.objects.create(user=actor, key_hash=hashlib.sha256(key.encode()).hexdigest(), label=label[:80])
    return token, key


@transaction.atomic
def feed_token_revoke(*, actor: User, token_id: int) -> None:
    from ..models import FeedToken

    if not FeedToken.objects.filter(pk=token_id, user=actor, revoked_at__isnull=True).update(revoked_at=timezone.now()):
        raise NotVisible()


def feed_token_user(key: str) -> User | None:
    from ..models import FeedToken

    if not key or len(key) > 100:
        return None
    token = (
        FeedToken.objects.select_related("user")
        .filter(key_hash=hashlib.sha256(key.encode()).hexdigest(), revoked_at__isnull=True)
        .first()
    )
    return token.user if token and token.user.is_active else None
