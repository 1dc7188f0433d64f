"""Pushes to Channels groups. Called only from `transaction.on_commit` callbacks.

The websocket is a fast hint: PostgreSQL is the truth and clients `resume` after a reconnect, so
a push that fails (Redis blinking) is logged and dropped rather than failing the caller.
"""
from __future__ import annotations

import asyncio
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

from servicedesk import after_response

from . import live_broadcast, streams

logger = logging.getLogger(__name__)


BATCH_GROUPS = 500  # groups per batched send: bounds one pipeline and one script


def send_many(messages: list[tuple[str, dict]]) -> None:
    """Send every (group, message) in one event-loop pass: one connection pool, not one per group.

    With the Redis layer (servicedesk.channel_layer) the messages go in batches: two round trips
    for up to BATCH_GROUPS groups, and a message many groups share (one activity pushed to each
    follower's own group) is queued once per receiving process. Other layers get one
    `group_send` per message, LIVE_SEND_CONCURRENCY groups at a time. Each group's own messages
    keep their order either way.

    Inside a request served by the ASGI handler the sends run on its event loop once the response
    has gone out (servicedesk/after_response.py); elsewhere they run now.
    """
    layer = get_channel_layer()
    if layer is None or not messages:
        return

    timeout = settings.LIVE_LAYER_TIMEOUT_SECONDS
    by_group: dict[str, list[dict]] = {}
    for group, message in messages:
        by_group.setdefault(group, []).append(message)

    async def _batched():
        groups = list(by_group)
        for start in range(0, len(groups), BATCH_GROUPS):
            part = [(group, message) for group in groups[start:start + BATCH_GROUPS] for message in by_group[group]]
            try:
                async with asyncio.timeout(timeout):
                    await layer.group_send_batch(part)
            except Exception:  # noqa: BLE001 - a lost hint is recovered by resume
                # Redis is unreachable or slow: the rest would fail the same way. Give up at once.
                logger.warning("live push of %s messages failed; dropping the rest", len(messages), exc_info=True)
                return

    async def _one_by_one():
        gate = asyncio.Semaphore(max(1, settings.LIVE_SEND_CONCURRENCY))
        failed = asyncio.Event()

        async def _group(group: str, queued: list[dict]) -> None:
            async with gate:
                for message in queued:
                    if failed.is_set():
                        return
                    try:
                        async with asyncio.timeout(timeout):
                            await layer.group_send(group, message)
                    except Exception:  # noqa: BLE001 - a lost hint is recovered by resume
                        # Redis is unreachable or slow: the rest would fail the same way, one
                        # time-out each. Give up at once; clients resume from PostgreSQL.
                        if not failed.is_set():
                            failed.set()
                            logger.warning("live push to %s failed; dropping the rest of %s", group, len(messages), exc_info=True)
                        return

        groups = list(by_group.items())
        # The first group alone: when Redis is down, that one failure ends it, no burst of tries.
        await _group(*groups[0])
        await asyncio.gather(*(_group(group, queued) for group, queued in groups[1:]))

    work = _batched if hasattr(layer, "group_send_batch") else _one_by_one
    if after_response.defer(work):
        return
    try:
        async_to_sync(work)()
    except Exception:  # noqa: BLE001
        logger.warning("live push failed", exc_info=True)


def personal_activity_messages(user_ids, payload: dict) -> list[tuple[str, dict]]:
    """The activity to these people's open sockets: through each person's group when they are a
    few, as one broadcast every process hands to its own sockets when they are many."""
    user_ids = list(user_ids)
    if len(user_ids) > settings.FANOUT_INLINE_MAX:
        return [live_broadcast.message(user_ids=user_ids, payload=payload)]
    return [
        (streams.user_group_name(user_id), {"type": "live.activity", "activity": payload, "audience": None})
        for user_id in user_ids
    ]


def activity_messages(*, payload: dict, audience: dict, recipients: list[int], stream_names: list[str]) -> list[tuple[str, dict]]:
    messages = personal_activity_messages(recipients, payload) if recipients else []
    messages += [
        (streams.group_name(stream), {"type": "live.activity", "activity": payload, "audience": audience, "stream": stream})
        for stream in stream_names
    ]
    return messages


def recheck_on_commit(*, user_ids=(), stream_names=()) -> None:
    """Access may have ended: the sockets of these people re-check everything they subscribe to,
    and every socket subscribed to these streams re-checks that stream. Those refused lose it and
    are told with an `unsubscribed` frame."""
    from django.db import transaction

    messages = [(streams.user_group_name(uid), {"type": "live.recheck", "stream": None}) for uid in sorted(set(user_ids))]
    messages += [(streams.group_name(s), {"type": "live.recheck", "stream": s}) for s in stream_names]
    if messages:
        transaction.on_commit(lambda: send_many(messages))


def notification_message(*, user_id: int, payload: dict) -> tuple[str, dict]:
    return streams.user_group_name(user_id), {"type": "live.notification", "notification": payload}


def unread_message(*, user_id: int, count: int, read: list[int] | None = None, all_read: bool = False,
                   again: list[dict] | None = None) -> tuple[str, dict]:
    message = {"type": "live.unread", "count": count}
    if again:
        message["again"] = list(again)
    if read:
        message["read"] = list(read)
    if all_read:
        message["all_read"] = True
    return streams.user_group_name(user_id), message


def push_unread(*, user_id: int, count: int, read: list[int] | None = None, all_read: bool = False) -> None:
    """The person's unread count (and which notifications were just read) to all their tabs."""
    send_many([unread_message(user_id=user_id, count=count, read=read, all_read=all_read)])
