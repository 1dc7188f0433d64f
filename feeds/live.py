"""Pushes to Channels groups. Called only from `transaction.on_commit` callbacks.

The websocket is a fast hint: PostgreSQL is the truth and clients `resume` after a reconnect, so
a push that fails (Redis blinking) is logged and dropped rather than failing the caller.
"""
from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from . import streams

logger = logging.getLogger(__name__)


def _send(group: str, message: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:  # noqa: BLE001 - a lost hint is recovered by resume
        logger.warning("live push to %s failed", group, exc_info=True)


def push_activity(*, payload: dict, audience: dict, recipients: list[int], stream_names: list[str]) -> None:
    for user_id in recipients:
        _send(streams.user_group_name(user_id), {"type": "live.activity", "activity": payload, "audience": None})
    for stream in stream_names:
        _send(streams.group_name(stream), {"type": "live.activity", "activity": payload, "audience": audience})


def push_notification(*, user_id: int, payload: dict) -> None:
    _send(streams.user_group_name(user_id), {"type": "live.notification", "notification": payload})


def push_unread(*, user_id: int, count: int) -> None:
    _send(streams.user_group_name(user_id), {"type": "live.unread", "count": count})
