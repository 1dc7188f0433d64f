"""Checking that a chat request really comes from the chat tool: HMAC signatures over the raw body
and a timestamp window (Slack's signing secret; Teams' outgoing-webhook security token)."""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from datetime import datetime


class NotSigned(Exception):
    """Missing, wrong or stale signature: the request is answered 401 and changes nothing."""


def verify_slack(*, secret: str, body: bytes, timestamp: str | None, signature: str | None, max_age: int) -> str:
    """Returns the request's fingerprint (for replay detection)."""
    if not secret or not timestamp or not signature:
        raise NotSigned("The request is not signed.")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise NotSigned("The request's timestamp is not a number.") from None
    if abs(time.time() - sent_at) > max_age:
        raise NotSigned("The request is too old.")
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        raise NotSigned("The signature does not match.")
    return hashlib.sha256(signature.encode("utf-8", "replace")).hexdigest()


def verify_teams(*, secret: str, body: bytes, authorization: str | None, sent_at: object, max_age: int) -> str:
    if not secret or not authorization or not authorization.startswith("HMAC "):
        raise NotSigned("The request is not signed.")
    try:
        key = base64.b64decode(secret, validate=True)
    except (binascii.Error, ValueError):
        raise NotSigned("The connection's security token is not valid base64.") from None
    expected = base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()
    if not hmac.compare_digest(expected.encode(), authorization[5:].strip().encode("utf-8", "replace")):
        raise NotSigned("The signature does not match.")
    try:
        when = datetime.fromisoformat(sent_at.replace("Z", "+00:00")).timestamp() if isinstance(sent_at, str) else None
        if when is None:
            raise ValueError(sent_at)
    except ValueError:
        raise NotSigned("The request has no valid timestamp.") from None
    if abs(time.time() - when) > max_age:
        raise NotSigned("The request is too old.")
    return hashlib.sha256(authorization.encode("utf-8", "replace")).hexdigest()


def slack_sign(secret: str, body: bytes, timestamp: int) -> str:
    """The signature Slack sends (used by the connection page's example and by clients of this desk)."""
    return "v0=" + hmac.new(secret.encode(), b"v0:%d:" % timestamp + body, hashlib.sha256).hexdigest()


def teams_sign(secret: str, body: bytes) -> str:
    return "HMAC " + base64.b64encode(hmac.new(base64.b64decode(secret), body, hashlib.sha256).digest()).decode()
