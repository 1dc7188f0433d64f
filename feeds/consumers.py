"""`/ws/live/`: authenticate, join the user's groups, relay events, replay on `resume`.

Who receives what is decided by the services that publish (feeds.services.activity_publish);
this consumer only checks stream access on subscribe and applies the audience that came with
each stream event.
"""
from __future__ import annotations

import asyncio
import logging
from collections import deque
from urllib.parse import parse_qs, urlsplit

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.http.request import validate_host
from redis.exceptions import RedisError

from . import selectors, services, streams
from .audience import Audience, user_groups
from .presenters import activity_payload, notification_payload

logger = logging.getLogger(__name__)

MAX_SUBSCRIPTIONS = 50
TRY_AGAIN_LATER = 1013  # RFC 6455: the server cannot serve the socket right now
LAYER_ERRORS = (RedisError, OSError, asyncio.TimeoutError)


def origin_allowed(origin: str) -> bool:
    parsed = urlsplit(origin)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return False
    host = parsed.hostname if parsed.port is None else f"{parsed.hostname}:{parsed.port}"
    trusted = {o.rstrip("/") for o in settings.CSRF_TRUSTED_ORIGINS}
    return validate_host(parsed.hostname, settings.ALLOWED_HOSTS) or f"{parsed.scheme}://{host}" in trusted


class LiveConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.user = None
        self.subscriptions: set[str] = set()
        self.recent_ids: deque[int] = deque(maxlen=200)
        self.recent_notification_ids: deque[int] = deque(maxlen=200)
        headers = dict(self.scope.get("headers", []))
        origin = headers.get(b"origin", b"").decode("latin-1")
        ticket = parse_qs(self.scope.get("query_string", b"").decode()).get("ticket", [""])[0]

        # Browsers always send Origin; refusing foreign ones stops cross-site socket hijacking.
        # Only ticket-authenticated (non-browser) clients may omit it.
        if origin and not origin_allowed(origin):
            await self.close()
            return
        if ticket:
            # Looked at, not spent yet: a socket refused because Redis is down keeps its ticket.
            user = await database_sync_to_async(selectors.live_ticket_user)(key=ticket)
        elif origin:
            session_user = self.scope.get("user")
            user = session_user if session_user is not None and session_user.is_authenticated else None
        else:
            user = None
        if user is None or not user.is_active:
            await self.close()
            return

        try:
            await asyncio.wait_for(
                self.channel_layer.group_add(streams.user_group_name(user.pk), self.channel_name),
                settings.LIVE_LAYER_TIMEOUT_SECONDS,
            )
        except Exception:  # noqa: BLE001 - Redis down or slow: refuse cleanly, the client retries
            logger.warning("live socket refused: the channel layer is unavailable", exc_info=True)
            await self.accept()
            await self.close(code=TRY_AGAIN_LATER)
            return
        if ticket and not await database_sync_to_async(services.live_ticket_consume)(key=ticket):
            # Spent by a concurrent handshake in the meantime.
            await self.channel_layer.group_discard(streams.user_group_name(user.pk), self.channel_name)
            await self.close()
            return

        self.user = user
        self.groups_of_user = await database_sync_to_async(user_groups)(user)
        await self.accept()
        last_activity, last_notification = await database_sync_to_async(selectors.last_ids)(user)
        unread = await database_sync_to_async(selectors.notifications_unread_count)(user)
        await self.send_json(
            {
                "type": "welcome",
                "user": user.username,
                "last_activity_id": last_activity,
                "last_notification_id": last_notification,
                "unread": unread,
            }
        )

    async def disconnect(self, code):
        if self.user is None:
            return
        groups = [streams.user_group_name(self.user.pk)] + [streams.group_name(s) for s in self.subscriptions]
        try:
            for group in groups:
                await asyncio.wait_for(self.channel_layer.group_discard(group, self.channel_name), settings.LIVE_LAYER_TIMEOUT_SECONDS)
        except Exception:  # noqa: BLE001 - memberships expire by themselves (group_expiry)
            logger.warning("could not leave live groups on disconnect", exc_info=True)

    async def __call__(self, scope, receive, send):
        """A channel layer that fails under an open socket (Redis stopped) closes it with 1013,
        so the client reconnects and resumes instead of sitting on a socket that hears nothing."""
        try:
            await super().__call__(scope, receive, send)
        except LAYER_ERRORS:
            logger.warning("live socket closed: the channel layer failed", exc_info=True)
            try:
                await send({"type": "websocket.close", "code": TRY_AGAIN_LATER})
            except Exception:  # noqa: BLE001 - the client is already gone
                pass

    async def receive_json(self, content, **kwargs):
        action = content.get("action") if isinstance(content, dict) else None
        if action == "subscribe":
            await self._subscribe(content.get("stream"))
        elif action == "unsubscribe":
            await self._unsubscribe(content.get("stream"))
        elif action == "resume":
            await self._resume(content.get("since"), content.get("notifications_since"))
        elif action == "ping":
            await self.send_json({"type": "pong"})
        else:
            await self.send_json({"type": "error", "message": "Unknown action."})

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        try:
            await super().receive(text_data=text_data, bytes_data=bytes_data, **kwargs)
        except ValueError:
            await self.send_json({"type": "error", "message": "Frames are JSON objects."})

    async def _subscribe(self, stream):
        if len(self.subscriptions) >= MAX_SUBSCRIPTIONS:
            await self.send_json({"type": "error", "message": "Too many subscriptions."})
            return
        try:
            name = await database_sync_to_async(streams.authorize)(self.user, stream)
        except streams.StreamRefused as refused:
            await self.send_json({"type": "error", "message": str(refused), "stream": stream if isinstance(stream, str) else None})
            return
        if name not in self.subscriptions:
            self.subscriptions.add(name)
            await self.channel_layer.group_add(streams.group_name(name), self.channel_name)
        await self.send_json({"type": "subscribed", "stream": name})

    async def _unsubscribe(self, stream):
        if isinstance(stream, str) and stream in self.subscriptions:
            self.subscriptions.discard(stream)
            await self.channel_layer.group_discard(streams.group_name(stream), self.channel_name)
        await self.send_json({"type": "unsubscribed", "stream": stream if isinstance(stream, str) else None})

    async def _resume(self, since, notifications_since):
        if not isinstance(since, int) or isinstance(since, bool) or since < 0:
            await self.send_json({"type": "error", "message": "'since' must be a non-negative integer."})
            return
        if notifications_since is not None and (
            not isinstance(notifications_since, int) or isinstance(notifications_since, bool) or notifications_since < 0
        ):
            await self.send_json({"type": "error", "message": "'notifications_since' must be a non-negative integer."})
            return
        activities, notifications = await database_sync_to_async(self._missed)(since, notifications_since)
        for payload in activities:
            await self._emit_activity(payload)
        for payload in notifications:
            await self._emit_notification(payload)
        await self.send_json({"type": "resumed", "activities": len(activities), "notifications": len(notifications)})

    def _missed(self, since: int, notifications_since: int | None):
        activities = selectors.activities_since(user=self.user, since=since, streams=frozenset(self.subscriptions))
        if notifications_since is None:
            notes = selectors.notifications_after_activity(user=self.user, activity_id=since)
        else:
            notes = selectors.notifications_since(user=self.user, since=notifications_since)
        return [activity_payload(a) for a in activities], [notification_payload(n) for n in notes]

    async def _emit_activity(self, payload: dict):
        if payload["id"] in self.recent_ids:
            return
        self.recent_ids.append(payload["id"])
        await self.send_json({"type": "activity", "activity": payload})

    async def _emit_notification(self, payload: dict):
        # A resume and the live push can both carry the same notification: send it once.
        if payload["id"] in self.recent_notification_ids:
            return
        self.recent_notification_ids.append(payload["id"])
        await self.send_json({"type": "notification", "notification": payload})

    # --- events from the channel layer
    async def live_activity(self, event):
        audience = event.get("audience")
        if audience is not None and not Audience.from_payload(audience).admits(
            user_id=self.user.pk, groups=self.groups_of_user
        ):
            return
        await self._emit_activity(event["activity"])

    async def live_notification(self, event):
        await self._emit_notification(event["notification"])

    async def live_unread(self, event):
        await self.send_json({"type": "unread", "count": event["count"]})

    async def live_event(self, event):
        """A content-free hint ("leaderboard changed") for pages that refetch what they show."""
        await self.send_json({"type": "event", "event": event["event"]})
