"""Names of the Channels groups every open `/ws/live/` socket joins, and the one message any app
may send to them: "close these sockets".

It lives at the bottom layer so that accounts (sign-out, deactivation, role and password changes)
can reach sockets without importing the feeds app that owns the consumer. Every socket of a person
joins `user_group_name(user.pk)`; a socket opened with a session cookie also joins
`session_group_name(session_key)`. The channel layer carries the message to every ASGI process.
"""
from __future__ import annotations

import hashlib
import logging

from django.db import transaction

logger = logging.getLogger(__name__)

# Close codes of /ws/live/ (the 4000-4999 range is the application's).
CLOSE_SIGNED_OUT = 4401  # signed out, deactivated or password changed: sign in again
CLOSE_ROLE_CHANGED = 4403  # the person's role changed: reload to get what the new role may see


def user_group_name(user_id: int) -> str:
    return f"user.{int(user_id)}"


def session_group_name(session_key: str) -> str:
    """A session key is a credential: the group name carries only a digest of it."""
    return "session." + hashlib.sha256(session_key.encode()).hexdigest()[:48]


def close_message(*, code: int, reason: str) -> dict:
    return {"type": "live.close", "code": int(code), "reason": reason}


def send(messages: list[tuple[str, dict]]) -> None:
    """Send (group, message) pairs now. A lost message is covered by the consumer's own
    re-check of the account on its next frame, so a failure is logged, never raised."""
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None or not messages:
        return

    async def _send_all():
        for group, message in messages:
            try:
                await layer.group_send(group, message)
            except Exception:  # noqa: BLE001
                logger.warning("live push to %s failed", group, exc_info=True)

    try:
        async_to_sync(_send_all)()
    except Exception:  # noqa: BLE001
        logger.warning("live push failed", exc_info=True)


def close_user_sockets_on_commit(*, user_id: int, code: int, reason: str) -> None:
    message = close_message(code=code, reason=reason)
    transaction.on_commit(lambda: send([(user_group_name(user_id), message)]))


def close_session_sockets_on_commit(*, session_key: str, code: int, reason: str) -> None:
    message = close_message(code=code, reason=reason)
    transaction.on_commit(lambda: send([(session_group_name(session_key), message)]))
