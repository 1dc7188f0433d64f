"""`/ws/live/`: authenticate, join the user's groups, relay events, replay on `resume`.

Who receives what is decided by the services that publish (feeds.services.activity_publish);
this consumer checks stream access on subscribe and applies the audience that came with each
stream event. An open socket never outlives the access it was opened with:

- the account is re-read at most every LIVE_ACCESS_CACHE_SECONDS, on any frame in or out: a
  deactivated account, a changed password or an ended session closes the socket with 4401, a
  changed role with 4403 (and sign-out, deactivation, role and password changes also close it at
  once through the `live.close` message sent to the user's or the session's group);
- each subscribed stream, and each object whose access gates its activities (a ticket), is
  re-checked at most that often, and at once on a `live.recheck` message; a stream the person may
  no longer see is dropped with `{"type": "unsubscribed", "stream": ..., "reason": "access_ended"}`;
- `resume` re-checks everything first and replays only what the person may see now.
"""
from __future__ import annotations

import asyncio
import logging
import random
import time
import weakref
from collections import deque
from importlib import import_module
from urllib.parse import parse_qs, urlsplit

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils.crypto import constant_time_compare
from redis.exceptions import RedisError

from accounts.selectors import account_by_id
from servicedesk import live_groups

from . import live_broadcast, live_tickets, presence, selectors, services, streams
from .audience import Audience, user_groups, user_groups_many
from .presenters import activity_payload, notification_payload

logger = logging.getLogger(__name__)

MAX_SUBSCRIPTIONS = 50
ACCESS_ENDED = "access_ended"
_DEFAULT_PORTS = {"http": 80, "https": 443}
TRY_AGAIN_LATER = 1013  # RFC 6455: the server cannot serve the socket right now
LAYER_ERRORS = (RedisError, OSError, asyncio.TimeoutError)


def _origin_parts(scheme: str, netloc: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of "scheme://host[:port]", the port made explicit; None if malformed."""
    try:
        parsed = urlsplit(f"{scheme}://{netloc}")
        port = parsed.port
    except ValueError:
        return None
    if scheme not in _DEFAULT_PORTS or not parsed.hostname:
        return None
    return scheme, parsed.hostname.lower(), port or _DEFAULT_PORTS[scheme]


def _own_origin(scope) -> tuple[str, str, int] | None:
    """The origin this socket was opened on: the scheme it came in with (or the proxy's, per
    SECURE_PROXY_SSL_HEADER) and the Host header, when that host is in ALLOWED_HOSTS."""
    headers = dict(scope.get("headers", []))
    host = headers.get(b"host", b"").decode("latin-1")
    if not host:
        return None
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    secure = scope.get("scheme") in ("wss", "https")
    proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy:
        header, value = proxy
        meta_name = header.removeprefix("HTTP_").lower().replace("_", "-").encode("latin-1")
        forwarded = headers.get(meta_name)
        if forwarded is not None:
            secure = forwarded.decode("latin-1").split(",", 1)[0].strip() == value
    return _origin_parts("https" if secure else "http", host)


def _trusted(origin: tuple[str, str, int]) -> bool:
    """CSRF_TRUSTED_ORIGINS, compared on scheme, host and port; "https://*.example.com" admits
    subdomains, as Django's CSRF check does."""
    scheme, host, port = origin
    for entry in settings.CSRF_TRUSTED_ORIGINS:
        entry = entry.rstrip("/")
        entry_scheme, _, netloc = entry.partition("://")
        wildcard = netloc.startswith("*.")
        parts = _origin_parts(entry_scheme, netloc[2:] if wildcard else netloc)
        if parts is None or parts[0] != scheme or parts[2] != port:
            continue
        if host == parts[1] or (wildcard and host.endswith("." + parts[1])):
            return True
    return False


def origin_allowed(origin: str, scope=None) -> bool:
    """A browser's Origin must be the very origin the socket was opened on (scheme, host in
    ALLOWED_HOSTS and port, like Django's CSRF check) or one of CSRF_TRUSTED_ORIGINS."""
    scheme, _, netloc = origin.partition("://")
    parsed = _origin_parts(scheme.lower(), netloc) if netloc and "/" not in netloc else None
    if parsed is None:
        return False
    if scope is not None and parsed == _own_origin(scope):
        return True
    return _trusted(parsed)


def _client_gone(error: BaseException) -> bool:
    """The ASGI server's send failing because the client left (an OSError, as the ASGI spec asks);
    Redis's own failures come as redis-py errors."""
    return isinstance(error, OSError) and not isinstance(error, RedisError)


def _session_exists(session_key: str) -> bool:
    store = import_module(settings.SESSION_ENGINE).SessionStore
    return store().exists(session_key)


def _sessions_existing(session_keys: set[str]) -> set[str] | None:
    """Which of these sessions still exist, in one query when sessions live in the database
    (as `exists()` answers for each); None for another session engine (asked one by one)."""
    from django.contrib.sessions.backends.db import SessionStore as DatabaseStore

    store = import_module(settings.SESSION_ENGINE).SessionStore
    if not issubclass(store, DatabaseStore):
        return None
    if not session_keys:
        return set()
    return set(store.get_model_class().objects.filter(session_key__in=session_keys).values_list("session_key", flat=True))


def _cache_seconds() -> float:
    return float(getattr(settings, "LIVE_ACCESS_CACHE_SECONDS", 5))


class _CheckBatch:
    """The access checks of this process's sockets, run together: one hop to the database thread
    for every check that fell due meanwhile, and one query for all the accounts among them.

    One comment on an incident reaches every follower's socket at about the same moment, and
    each socket's cached verdicts expire at about the same moment too; checked one socket at a
    time, a thousand sockets queued a thousand thread hops (each taking and returning a pooled
    connection) behind each other. Nothing is decided from staler data than before: each socket
    still re-reads what is due for it, only in company.
    """

    def __init__(self):
        self.pending: list[tuple[LiveConsumer, bool, list[str], bool, asyncio.Future]] = []
        self.flushing: asyncio.Task | None = None  # held: the loop keeps tasks only weakly

    async def check(self, consumer: LiveConsumer, *, account: bool, names: list[str], force: bool):
        future = asyncio.get_running_loop().create_future()
        self.pending.append((consumer, account, names, force, future))
        if self.flushing is None:
            self.flushing = asyncio.get_running_loop().create_task(self._flush())
        return await future

    async def _flush(self):
        try:
            while self.pending:
                await asyncio.sleep(0)  # the sockets woken by the same message join this batch
                batch, self.pending = self.pending, []
                try:
                    results = await database_sync_to_async(_run_checks)([item[:4] for item in batch])
                except Exception as error:  # noqa: BLE001 - each waiting socket fails as it did alone
                    results = [error] * len(batch)
                except BaseException:
                    # Cancelled (the loop is closing): nobody may be left waiting for an answer.
                    for *_, future in batch:
                        future.cancel()
                    raise
                for (*_, future), result in zip(batch, results):
                    if future.done():
                        continue
                    if isinstance(result, BaseException):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            self.flushing = None
            for *_, future in self.pending:
                future.cancel()  # only when cancelled: the loop above runs until nothing is pending
            self.pending = []


_batches: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _batch() -> _CheckBatch:
    loop = asyncio.get_running_loop()
    batch = _batches.get(loop)
    if batch is None:
        batch = _batches[loop] = _CheckBatch()
    return batch


def _run_checks(items) -> list:
    """In the database thread: each socket's due checks, its account read in one query with the others'."""
    from accounts.models import User

    due = [consumer for consumer, account, _, _ in items if account]
    people = {consumer.user.pk for consumer in due}
    if len(people) == 1:
        # One socket's check (a resume, a frame from the client): the queries compiled once.
        (person_id,) = people
        user = account_by_id(person_id)
        users = {person_id: user} if user is not None else {}
        groups = {person_id: user_groups(user)} if user is not None else {}
        sessions = None  # each socket's session is looked up alone, through the compiled read
    else:
        users = User.objects.in_bulk(people) if due else {}
        # What each due account check reads (the person's groups, whether the session still exists),
        # read once for all of them: a comment on a big incident wakes every follower's socket at once.
        groups = user_groups_many(users.values()) if users else {}
        sessions = _sessions_existing({consumer.session_key for consumer in due if consumer.session_key}) if due else None
    out = []
    with streams.shared_reads():
        for consumer, account, names, force in items:
            try:
                verdict = consumer._account_state(
                    users.get(consumer.user.pk), groups=groups.get(consumer.user.pk), sessions=sessions,
                ) if account else None
                out.append((verdict, {} if verdict is not None or not names else consumer._may_see_now(names, force=force)))
            except Exception as error:  # noqa: BLE001 - raised in that socket, not in its neighbours
                out.append(error)
    return out


def _open_with_ticket(ticket: str):
    """(the person, their groups, their page marks) for a live ticket spent now; None if refused."""
    user = services.live_ticket_redeem(key=ticket)
    if user is None:
        return None
    return user, user_groups(user), selectors.page_marks(user)


class LiveConsumer(AsyncJsonWebsocketConsumer):
    refresher: asyncio.Task | None = None
    # Set once the socket holds groups (its person's and session's) and counts for broadcasts:
    # however the socket ends (a disconnect, a crash, a client gone mid-send), it lets go of them.
    joined_user: int | None = None
    own_groups: tuple[str, ...] = ()
    released = False

    async def dispatch(self, message):
        """Channels' own dispatch first hops to the database thread to close stale connections,
        for every message: one comment to a thousand followers queued a thousand hops behind each
        other (and behind the access checks) before the frames went out. This consumer reads the
        database only through `database_sync_to_async`, which closes stale connections around each
        read itself, so a message is handled without that hop."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self):
        self.user = None
        self.closing = False
        self.session_key = None
        self.subscriptions: set[str] = set()
        self.recent_ids: deque[int] = deque(maxlen=200)
        self.recent_notification_ids: deque[int] = deque(maxlen=200)
        # stream name -> (may see it, when that was decided): the per-socket access cache.
        self.access: dict[str, tuple[bool, float]] = {}
        headers = dict(self.scope.get("headers", []))
        origin = headers.get(b"origin", b"").decode("latin-1")
        ticket = parse_qs(self.scope.get("query_string", b"").decode()).get("ticket", [""])[0]

        # Browsers always send Origin; refusing foreign ones stops cross-site socket hijacking.
        # Only ticket-authenticated (non-browser) clients may omit it.
        if origin and not origin_allowed(origin, self.scope):
            await self.close()
            return
        if ticket:
            # Only the signature and the age here (no I/O): the account is read, and the ticket
            # spent, once the socket is in its person's groups.
            payload = live_tickets.read(ticket)
            user_id = payload["u"] if payload is not None else None
            user = None
        elif origin:
            session_user = self.scope.get("user")
            user = session_user if session_user is not None and session_user.is_authenticated else None
            session = self.scope.get("session")
            self.session_key = getattr(session, "session_key", None) if user is not None else None
            if user is not None and (not self.session_key or not user.is_active):
                user = None
            user_id = user.pk if user is not None else None
        else:
            user_id = None
        if user_id is None:
            await self.close()
            return

        own_groups = [live_groups.user_group_name(user_id)]
        if self.session_key:
            own_groups.append(live_groups.session_group_name(self.session_key))
        self.own_groups = tuple(own_groups)
        self.joined_user = user_id
        try:
            for group in own_groups:
                async with asyncio.timeout(settings.LIVE_LAYER_TIMEOUT_SECONDS):
                    await self.channel_layer.group_add(group, self.channel_name)
            async with asyncio.timeout(settings.LIVE_LAYER_TIMEOUT_SECONDS):
                await live_broadcast.join(self, user_id)
        except Exception:  # noqa: BLE001 - Redis down or slow: refuse cleanly, the client retries
            # Refused before the ticket was spent: the client tries again with the same one.
            await self._release()
            logger.warning("live socket refused: the channel layer is unavailable", exc_info=True)
            await self.accept()
            await self.close(code=TRY_AGAIN_LATER)
            return

        marks = None
        if ticket:
            # One trip: the account read after joining its groups (so whatever changes it from now
            # on reaches this socket through them), the ticket spent, the person's groups and the
            # marks the welcome carries.
            opened = await database_sync_to_async(_open_with_ticket)(ticket)
            if opened is None:  # spent meanwhile, a changed password, a deactivated account
                await self._release()
                await self.close()
                return
            user, self.groups_of_user, marks = opened
            self._hold(user)
        else:
            self._hold(user)
            self.groups_of_user = await database_sync_to_async(user_groups)(user)
            # Whatever happened between reading the account and joining its groups is caught here.
            if not await self._account_ok(force=True):
                return
        await self.accept()
        self.refresher = asyncio.create_task(self._keep_memberships())
        if marks is None:
            marks = await database_sync_to_async(selectors.page_marks)(user)
        last_activity, last_notification, unread = marks
        await self.send_json(
            {
                "type": "welcome",
                "user": user.username,
                "last_activity_id": last_activity,
                "last_notification_id": last_notification,
                "unread": unread,
            }
        )

    def _hold(self, user) -> None:
        """The account this socket now speaks for, as just read; checked again from here on."""
        self.user = user
        self.role = user.role
        self.auth_hash = user.get_session_auth_hash()
        self.checked_at = time.monotonic()

    def _groups(self) -> list[str]:
        """Every group this socket belongs to: the person's, the session's, each subscribed stream's."""
        groups = list(self.own_groups) + [streams.group_name(s) for s in sorted(self.subscriptions)]
        if live_broadcast.is_delegate(self):
            groups.append(live_broadcast.PROCESS_GROUP)
        return groups

    async def _keep_memberships(self):
        """Group memberships expire after LIVE_GROUP_EXPIRY_SECONDS (so a socket that died without
        leaving them, e.g. its disconnect failed, stops being sent to within minutes); an open
        socket renews its own every third of that. Cancelled when the socket ends."""
        period = max(0.5, settings.LIVE_GROUP_EXPIRY_SECONDS / 3)
        # Jittered, so thousands of sockets opened in one reconnect storm do not renew in lockstep.
        wait = period * random.uniform(0.2, 1.0)
        while True:
            await asyncio.sleep(wait)
            wait = period * random.uniform(0.8, 1.0)
            if self.closing or self.user is None:
                return
            try:
                # A process whose listener could not be handed over (Redis was away) gets one again.
                async with asyncio.timeout(settings.LIVE_LAYER_TIMEOUT_SECONDS):
                    await live_broadcast.stand_in(self)
                for group in self._groups():
                    async with asyncio.timeout(settings.LIVE_LAYER_TIMEOUT_SECONDS):
                        await self.channel_layer.group_add(group, self.channel_name)
            except Exception:  # noqa: BLE001 - Redis down: try again next period (this re-joins after a restart)
                logger.warning("could not renew live group memberships", exc_info=True)

    def _stop_refresher(self) -> None:
        if self.refresher is not None:
            self.refresher.cancel()
            self.refresher = None

    async def disconnect(self, code):
        self._stop_refresher()
        await self._release()

    async def _release(self) -> None:
        """Hand over the broadcasts, say it left and leave every group: once per socket, however
        it ends (a disconnect, a refused handshake, a crash, a client gone while it was sent to)."""
        user_id = self.joined_user
        if self.released or user_id is None:
            return
        self.released = True

        async def leave():
            await live_broadcast.leave(self, user_id)
            await presence.withdraw(self)
            for group in self._groups():
                await self.channel_layer.group_discard(group, self.channel_name)

        try:
            async with asyncio.timeout(settings.LIVE_LAYER_TIMEOUT_SECONDS):
                await leave()
        except Exception:  # noqa: BLE001 - memberships expire by themselves (group_expiry)
            logger.warning("could not leave live groups", exc_info=True)

    async def __call__(self, scope, receive, send):
        """A channel layer that fails under an open socket (Redis stopped) closes it with 1013,
        so the client reconnects and resumes instead of sitting on a socket that hears nothing."""
        try:
            await super().__call__(scope, receive, send)
        except LAYER_ERRORS as error:
            if _client_gone(error):
                logger.info("live socket ended: the client went away while it was sent to")
            else:
                logger.warning("live socket closed: the channel layer failed", exc_info=True)
                try:
                    await send({"type": "websocket.close", "code": TRY_AGAIN_LATER})
                except Exception:  # noqa: BLE001 - the client is already gone
                    pass
        finally:
            self._stop_refresher()
            # Without a disconnect (a crash, a client gone mid-send) nothing else lets go of its groups,
            # and a process whose broadcast listener it was would hear no broadcast again.
            await self._release()

    # --- the account and access checks

    def _account_state(self, user, *, groups: frozenset[str] | None = None,
                       sessions: set[str] | None = None) -> tuple[int, str] | None:
        """Judge the account as just re-read (sync, in the database thread; None if it is gone).
        A close code and reason, or None. `groups` and `sessions` (the sessions that still exist)
        are read for a batch of sockets at once; each is read here when not given."""
        if user is None or not user.is_active:
            return live_groups.CLOSE_SIGNED_OUT, "Your account was deactivated."
        if not constant_time_compare(user.get_session_auth_hash(), self.auth_hash):
            return live_groups.CLOSE_SIGNED_OUT, "Your password changed. Sign in again."
        if self.session_key and not (self.session_key in sessions if sessions is not None
                                     else _session_exists(self.session_key)):
            return live_groups.CLOSE_SIGNED_OUT, "You signed out."
        if user.role != self.role:
            return live_groups.CLOSE_ROLE_CHANGED, "Your role changed. Reload the page."
        self.user = user
        self.groups_of_user = groups if groups is not None else user_groups(user)
        return None

    async def _account_ok(self, *, force: bool = False) -> bool:
        """The safety net run on every frame in and out: False (and the socket closing) once the
        account may no longer hold it. Decided at most every LIVE_ACCESS_CACHE_SECONDS."""
        return await self._checked([], force_account=force) is not None

    async def _checked(self, names: list[str], *, force_account: bool = False, force: bool = False) -> dict[str, bool] | None:
        """The account (when due) and access to these streams (those not freshly cached), decided
        together: None (and the socket closing) once the account may no longer hold it, else
        {stream: may see it}. Answered from the caches without leaving the event loop when
        nothing is due."""
        if self.closing or self.user is None:
            return None
        now, ttl = time.monotonic(), _cache_seconds()
        account = force_account or now - self.checked_at >= ttl
        stale = force or any(name not in self.access or now - self.access[name][1] >= ttl for name in names)
        if not account and not stale:
            return {name: self.access[name][0] for name in names}
        result = await _batch().check(self, account=account, names=names, force=force)
        verdict, allowed = result
        if verdict is not None:
            await self._shut(*verdict)
            return None
        if account:
            self.checked_at = now
        return allowed

    async def _shut(self, code: int, reason: str) -> None:
        if self.closing:
            return
        self.closing = True
        logger.info("closing live socket of user %s: %s", getattr(self.user, "pk", None), code)
        await self.close(code=code, reason=reason)

    def _may_see_now(self, names: list[str], *, force: bool = False) -> dict[str, bool]:
        """Stream access (sync), from the per-socket cache when it is fresh enough."""
        now, ttl = time.monotonic(), _cache_seconds()
        out = {}
        for name in names:
            cached = self.access.get(name)
            if cached is None or force or now - cached[1] >= ttl:
                cached = (streams.may_subscribe(self.user, name), now)
                self.access[name] = cached
            out[name] = cached[0]
        if len(self.access) > 4 * MAX_SUBSCRIPTIONS:
            for name in [n for n, (_, at) in self.access.items() if now - at >= ttl and n not in self.subscriptions]:
                del self.access[name]
        return out

    async def _drop_refused(self, names: list[str], *, force: bool = False) -> set[str]:
        """Re-check these subscribed streams; unsubscribe (and tell) those no longer allowed."""
        if not names:
            return set()
        allowed = await self._checked(names, force=force)
        if allowed is None:
            return set(names)
        return await self._drop_lost(allowed)

    async def _drop_lost(self, allowed: dict[str, bool]) -> set[str]:
        """Unsubscribe (and tell) the subscribed streams among these verdicts that are refused."""
        lost = {name for name, ok in allowed.items() if not ok and name in self.subscriptions}
        for name in sorted(lost):
            self.subscriptions.discard(name)
            await self.channel_layer.group_discard(streams.group_name(name), self.channel_name)
            await self.send_json({"type": "unsubscribed", "stream": name, "reason": ACCESS_ENDED})
        return lost

    @staticmethod
    def _gated(payload: dict) -> list[str]:
        """The streams whose access gates this activity: its object's and target's, when gated (a ticket)."""
        about = [
            f"{part['type']}:{part['key']}" for part in (payload.get("object"), payload.get("target"))
            if isinstance(part, dict) and part.get("type") and part.get("key") not in (None, "")
        ]
        return streams.gating_streams(about)

    # --- frames from the client

    async def receive_json(self, content, **kwargs):
        if not await self._account_ok():
            return
        action = content.get("action") if isinstance(content, dict) else None
        if action == "subscribe":
            await self._subscribe(content.get("stream"))
        elif action == "unsubscribe":
            await self._unsubscribe(content.get("stream"))
        elif action == "resume":
            await self._resume(content.get("since"), content.get("notifications_since"))
        elif action == "presence":
            await presence.announce(self, content)
        elif action == "ping":
            await self.send_json({"type": "pong"})
        else:
            await self.send_json({"type": "error", "message": "Unknown action."})

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        try:
            await super().receive(text_data=text_data, bytes_data=bytes_data, **kwargs)
        except ValueError:
            if not self.closing:
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
        self.access[name] = (True, time.monotonic())
        if name not in self.subscriptions:
            self.subscriptions.add(name)
            await self.channel_layer.group_add(streams.group_name(name), self.channel_name)
        await self.send_json({"type": "subscribed", "stream": name})

    async def _unsubscribe(self, stream):
        if isinstance(stream, str) and stream in self.subscriptions:
            await presence.withdraw(self, stream)
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
        # Replay decides from access now: the account, its groups and every subscription afresh.
        if not await self._account_ok(force=True):
            return
        await self._drop_refused(sorted(self.subscriptions), force=True)
        activities, notifications = await database_sync_to_async(self._missed)(since, notifications_since)
        for payload in activities:
            await self._emit_activity(payload)
        for payload in notifications:
            await self._emit_notification(payload)
        await self.send_json({"type": "resumed", "activities": len(activities), "notifications": len(notifications)})

    def _missed(self, since: int, notifications_since: int | None):
        activities = selectors.activities_since(
            user=self.user, since=since, streams=frozenset(self.subscriptions), groups=self.groups_of_user
        )
        # Subscribed streams were decided a moment ago (force): the socket's access cache answers them.
        activities = selectors.visible_now(user=self.user, activities=activities, may_see=self._may_see_now)
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
        payload = event["activity"]
        # The same activity comes again through another group (a followed stream and the
        # person's own): dropped before any check, so a repeat costs nothing.
        if self.closing or self.user is None or payload.get("id") in self.recent_ids:
            return
        stream = event.get("stream")
        if stream is not None and stream not in self.subscriptions:
            return  # a message already queued when the stream was dropped
        gated = self._gated(payload)
        names = list(dict.fromkeys(([stream] if stream is not None else []) + gated))
        # The account, the stream and the gated object, decided in one go (usually from the caches).
        allowed = await self._checked(names)
        if allowed is None:
            return
        await self._drop_lost(allowed)
        if stream is not None and not allowed[stream]:
            return
        audience = event.get("audience")
        if audience is not None and not Audience.from_payload(audience).admits(
            user_id=self.user.pk, groups=self.groups_of_user
        ):
            return
        if not all(allowed.get(name, False) for name in gated):
            return
        await self._emit_activity(payload)

    async def live_activity_many(self, event):
        """A broadcast to this process (this socket listens for it): its sockets of the people named."""
        live_broadcast.deliver(event)

    async def live_notification(self, event):
        if self.closing or event["notification"].get("id") in self.recent_notification_ids:
            return
        if not await self._account_ok():
            return
        await self._emit_notification(event["notification"])

    async def live_unread(self, event):
        if not await self._account_ok():
            return
        frame = {"type": "unread", "count": event["count"]}
        if event.get("read"):
            frame["read"] = [int(pk) for pk in event["read"]]
        if event.get("all_read"):
            frame["all_read"] = True
        if event.get("again"):
            frame["again"] = [{"id": int(n["id"]), "url": str(n["url"])} for n in event["again"]]
        await self.send_json(frame)

    async def live_event(self, event):
        """A content-free hint ("leaderboard changed") for pages that refetch what they show."""
        if not await self._account_ok():
            return
        await self.send_json({"type": "event", "event": event["event"]})

    async def live_presence(self, event):
        """Who else has a ticket open or is typing (see feeds.presence)."""
        if await self._account_ok():
            await presence.relay(self, event)

    async def live_recheck(self, event):
        """Access may have ended (a ticket turned private, a membership ended): re-check now."""
        if not await self._account_ok(force=True):
            return
        stream = event.get("stream")
        names = [stream] if stream else sorted(self.subscriptions)
        await self._drop_refused([n for n in names if n in self.subscriptions], force=True)
        # Gated objects seen earlier are decided afresh on their next activity.
        self.access = {n: v for n, v in self.access.items() if n in self.subscriptions}

    async def live_close(self, event):
        """Sign-out, deactivation, a new password or a new role: this socket may not stay open."""
        await self._shut(int(event.get("code") or live_groups.CLOSE_SIGNED_OUT), str(event.get("reason") or ""))
