"""Who else has a ticket open, and who is typing a reply: presence on a subscribed stream.

Presence is a hint between agents, never stored: a socket announces itself on a stream it is
subscribed to (`{"action": "presence", "stream": "ticket:42", "state": "viewing" | "typing" |
"idle"}`), the announcement goes to the stream's group through the channel layer (so it crosses
ASGI processes), and every other staff socket subscribed to that stream receives
`{"type": "presence", "stream", "user", "name", "state", "ttl"}`. A socket that joins says
"viewing" and the others answer with their own state, so a newcomer learns who is there.

Expiry: a closing socket says "left" on every stream it announced; one that vanished without
closing (a crashed process, a lost network) stops renewing, and the browsers forget it `ttl`
seconds after its last announcement (clients renew every ttl / 3). Only staff announce and only
staff hear: collision is the agents' business, and the name comes from the account, never from
the frame.
"""
from __future__ import annotations

import asyncio
import logging

from django.conf import settings

from accounts.models import STAFF_ROLES

from . import streams

logger = logging.getLogger(__name__)

STATES = ("viewing", "typing", "idle")
LEFT = "left"


def ttl_seconds() -> int:
    return settings.PRESENCE_TTL_SECONDS


def _staff(consumer) -> bool:
    return getattr(consumer.user, "role", None) in STAFF_ROLES


def _message(consumer, stream: str, state: str) -> dict:
    user = consumer.user
    return {
        "type": "live.presence", "stream": stream, "state": state, "sender": consumer.channel_name,
        "user": user.username, "name": user.display_name or user.username,
    }


async def _send(consumer, stream: str, state: str) -> None:
    try:
        async with asyncio.timeout(settings.LIVE_LAYER_TIMEOUT_SECONDS):
            await consumer.channel_layer.group_send(streams.group_name(stream), _message(consumer, stream, state))
    except Exception:  # noqa: BLE001 - a lost hint is renewed by the next heartbeat
        logger.warning("presence on %s not sent", stream, exc_info=True)


async def announce(consumer, content: dict) -> None:
    """A client frame `{"action": "presence", ...}`: relay it if the socket may."""
    stream, state = content.get("stream"), content.get("state")
    if not _staff(consumer):
        await consumer.send_json({"type": "error", "message": "Presence is for agents."})
        return
    if not isinstance(stream, str) or stream not in consumer.subscriptions or not stream.startswith("ticket:"):
        await consumer.send_json({"type": "error", "message": "Subscribe to the ticket's stream first.", "stream": None})
        return
    if state not in STATES:
        await consumer.send_json({"type": "error", "message": f"'state' is one of {', '.join(STATES)}."})
        return
    if await consumer._drop_refused([stream]):
        return
    announced = consumer.__dict__.setdefault("presence_streams", set())
    announced.add(stream)
    await _send(consumer, stream, state)


async def withdraw(consumer, stream: str | None = None) -> None:
    """The socket closes (or leaves a stream): tell the others it left."""
    announced = consumer.__dict__.get("presence_streams") or set()
    for name in sorted(announced if stream is None else announced & {stream}):
        announced.discard(name)
        await _send(consumer, name, LEFT)


async def relay(consumer, event: dict) -> None:
    """A presence message from the stream's group, to this socket if it should hear it."""
    if event.get("sender") == consumer.channel_name or not _staff(consumer):
        return
    stream = event.get("stream")
    if stream not in consumer.subscriptions:
        return
    await consumer.send_json({
        "type": "presence", "stream": stream, "user": event.get("user"), "name": event.get("name"),
        "state": event.get("state"), "ttl": ttl_seconds(),
    })
