"""Live tickets: single-use, short-lived credentials for opening /ws/live/ without a cookie.

A ticket is signed, not stored: `{"u": user id, "h": a digest of the account's session hash,
"n": a random nonce}` signed with SECRET_KEY and timestamped, valid for LIVE_TICKET_TTL_SECONDS.
Issuing one costs no database query; checking one at a handshake reads the account once; spending
it is one Redis `SET NX` on a marker named after its nonce that lives as long as the ticket could
(the Django cache's `add`, which fails closed: if Redis cannot say "first", the ticket is refused).
A password change between issue and use voids the ticket (the digest no longer matches).
"""
from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.utils.crypto import constant_time_compare

SALT = "feeds.live-ticket"
MAX_LENGTH = 200


def _ttl() -> int:
    return int(settings.LIVE_TICKET_TTL_SECONDS)


def _account_digest(user) -> str:
    return hashlib.sha256(user.get_session_auth_hash().encode()).hexdigest()[:16]


def issue(user) -> str:
    payload = {"u": user.pk, "h": _account_digest(user), "n": secrets.token_urlsafe(16)}
    return signing.dumps(payload, salt=SALT, compress=False)


def read(key) -> dict | None:
    """The payload of a well-formed, authentic, unexpired ticket; None otherwise."""
    if not isinstance(key, str) or not key or len(key) > MAX_LENGTH:
        return None
    try:
        payload = signing.loads(key, salt=SALT, max_age=_ttl())
    except signing.BadSignature:  # also SignatureExpired
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("u"), int) or not isinstance(payload.get("n"), str):
        return None
    return payload


def _marker(payload: dict) -> str:
    return "live-ticket:" + hashlib.sha256(payload["n"].encode()).hexdigest()[:32]


def matches(payload: dict, user) -> bool:
    return constant_time_compare(str(payload.get("h", "")), _account_digest(user))


def spend(payload: dict) -> bool:
    """Mark the ticket (its payload, as `read` answered it) used; True only for the first caller
    within its lifetime."""
    # Kept a little longer than the ticket is valid, so it cannot be replayed at the very end.
    return bool(cache.add(_marker(payload), 1, timeout=_ttl() + 5))
