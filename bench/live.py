"""Live fan-out and reconnect storm against a running stack (bench/stack.py), over public interfaces.

Set-up (in this process, through the services): N people who follow one public incident, an API
token each, and an agent. Then, with an asyncio client (`websockets`):
- fan-out: N sockets (each: POST /api/v1/live/ticket/, then /ws/live/?ticket=...); after one warm-up
  comment, `rounds` comments POSTed by the agent over HTTP, 2 s apart; latency from the start of
  each POST to each socket's activity frame (pooled), the POST's own time (p50 of the rounds), the
  POSTs sent and timed by a process of their own (bench/live_poster.py), as an agent's browser is
  not one of the followers' clients;
- reconnect storm: every socket is dropped abruptly, then all clients at once get a new ticket,
  reconnect and send `resume` from their last activity id; 5xx count and time to the last `resumed`.
"""
from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import websockets

WAIT = 60  # generous: the machine is shared


def prepare(count: int) -> dict:
    """People, follows and tokens; reused across runs (idempotent)."""
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import Role, User
    from accounts.services import api_token_create
    from feeds.models import OutboxMessage
    from tickets import services as tickets

    have = set(User.objects.filter(username__startswith="live").values_list("username", flat=True))
    missing = [f"live{i:05d}" for i in range(count) if f"live{i:05d}" not in have]
    # Bulk: creating thousands of people one by one is not what is measured here.
    User.objects.bulk_create(
        [User(username=name, display_name=name.title(), email=f"{name}@example.test", password="!") for name in missing],
        ignore_conflicts=True,
    )
    agent = User.objects.filter(username="liveagent").first()
    if agent is None:
        agent = User.objects.create(username="liveagent", display_name="Live Agent", role=Role.AGENT, password="!")
    # A new incident each run: notifications about one ticket coalesce per person for a while, so a
    # reused incident would queue no e-mails for the Celery figure.
    ticket = tickets.ticket_create(actor=agent, kind="incident", title=f"Major incident: VPN down ({time.strftime('%H:%M:%S')})",
                                   description="Nobody can connect to the VPN.", impact=1, urgency=1,
                                   visibility="public")
    people = list(User.objects.filter(username__startswith="live", role=Role.END_USER).order_by("username")[:count])
    following = set(tickets.ticket_follows(ticket).values_list("user_id", flat=True))
    for person in people:
        if person.pk not in following:
            with transaction.atomic():
                tickets.ticket_follow(actor=person, ticket=ticket)
    tokens = [api_token_create(user=person)[1] for person in people]
    _, agent_token = api_token_create(user=agent)
    # Deliveries left pending by an earlier run whose workers never ran (a profile, a killed stack)
    # would be swept by this run's worker while it measures: said, and counted in the figures.
    backlog = OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING, next_attempt_at__lte=timezone.now()).count()
    if backlog:
        print(f"warning: {backlog} outbox rows are pending before the live run; its worker will sweep them "
              "while it measures", file=sys.stderr)
    return {"ticket": ticket.pk, "tokens": tokens, "agent_token": agent_token,
            "followers": tickets.ticket_follows(ticket).count(), "outbox_backlog": backlog}


async def http(base: str, method: str, path: str, token: str, body: dict | None = None,
               timeout: float = WAIT) -> tuple[int, dict | None]:
    """A minimal HTTP/1.1 client on asyncio streams (one request per connection)."""
    url = urlsplit(base)
    data = json.dumps(body).encode() if body is not None else b""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(url.hostname, url.port), timeout)
    try:
        head = (f"{method} {path} HTTP/1.1\r\nHost: {url.hostname}:{url.port}\r\nAuthorization: Token {token}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\nConnection: close\r\n\r\n")
        writer.write(head.encode() + data)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    status = int(raw.split(b" ", 2)[1])
    payload = raw.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in raw else b""
    if b"chunked" in raw.split(b"\r\n\r\n", 1)[0].lower():
        payload = _dechunk(payload)
    try:
        return status, json.loads(payload) if payload else None
    except ValueError:
        return status, None


def _dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2:]
    return out


class Client:
    def __init__(self, base: str, token: str):
        self.base, self.token = base, token
        self.ws = None
        self.last_id = 0
        self.arrivals: dict[int, float] = {}
        self.frames: list[tuple[float, int]] = []  # (arrival, activity id): repeats may coalesce into one id
        self.reader: asyncio.Task | None = None
        self.resumed: asyncio.Event = asyncio.Event()

    async def open(self) -> int:
        """Ticket + handshake + welcome; returns the ticket request's HTTP status (0 on a socket error)."""
        status, body = await http(self.base, "POST", "/api/v1/live/ticket/", self.token)
        if status != 201 and status != 200:
            return status
        url = self.base.replace("http://", "ws://") + f"/ws/live/?ticket={body['ticket']}"
        self.ws = await websockets.connect(url, open_timeout=WAIT, max_queue=None, ping_interval=None)
        welcome = json.loads(await asyncio.wait_for(self.ws.recv(), WAIT))
        assert welcome["type"] == "welcome", welcome
        self.last_id = max(self.last_id, welcome.get("last_activity_id") or 0)
        self.resumed = asyncio.Event()
        self.reader = asyncio.create_task(self._read())
        return status

    async def _read(self):
        try:
            async for raw in self.ws:
                frame = json.loads(raw)
                if frame.get("type") == "activity":
                    activity_id = frame["activity"]["id"]
                    now = time.perf_counter()
                    self.arrivals.setdefault(activity_id, now)
                    self.frames.append((now, activity_id))
                    self.last_id = max(self.last_id, activity_id)
                elif frame.get("type") == "resumed":
                    self.resumed.set()
        except websockets.ConnectionClosed:
            pass

    def drop(self):
        """An abrupt disconnect: no close frame, the TCP connection just goes."""
        if self.ws is not None:
            self.ws.transport.abort()
        if self.reader is not None:
            self.reader.cancel()


def pct(samples: list[float], p: float) -> float | None:
    if not samples:
        return None
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def _gather_limited(coros, limit: int):
    sem = asyncio.Semaphore(limit)

    async def one(coro):
        async with sem:
            try:
                return await coro
            except Exception as error:  # noqa: BLE001 - counted, reported
                return error

    return await asyncio.gather(*(one(c) for c in coros))


async def run_async(base: str, data: dict, count: int, rounds: int = 3) -> dict:
    clients = [Client(base, token) for token in data["tokens"][:count]]
    started = time.perf_counter()
    opened = await _gather_limited([c.open() for c in clients], 100)
    connect_s = time.perf_counter() - started
    failed_open = [o for o in opened if not isinstance(o, int) or o not in (200, 201)]
    await asyncio.sleep(2)  # let every handshake settle
    live = [c for c in clients if c.ws is not None]

    poster = await asyncio.create_subprocess_exec(
        sys.executable, str(Path(__file__).with_name("live_poster.py")),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)

    async def comment(text: str) -> tuple[int, float, list[float]]:
        """POST one comment as the agent; wait until every open socket has its activity frame."""
        poster.stdin.write((json.dumps({
            "base": base, "method": "POST", "path": f"/api/v1/tickets/{data['ticket']}/comments/",
            "token": data["agent_token"], "body": {"body": text, "internal": False}}) + "\n").encode())
        await poster.stdin.drain()
        answer = json.loads(await asyncio.wait_for(poster.stdout.readline(), WAIT + 5))
        status, t0, post_ms = answer["status"], answer["started"], answer["ms"]
        deadline = time.perf_counter() + 30
        while time.perf_counter() < deadline:
            if all(c.frames and c.frames[-1][0] >= t0 for c in live):
                break
            await asyncio.sleep(0.05)
        arrivals = []
        for c in live:
            first = next((at for at, _ in c.frames if at >= t0), None)
            if first is not None:
                arrivals.append((first - t0) * 1000)
        return status, post_ms, arrivals

    # A first comment warms the server processes (imports, connections); it is not counted.
    await comment("Investigating: the VPN concentrator is down")
    await asyncio.sleep(2)
    posts, latencies, statuses, missing = [], [], [], 0
    for round_ in range(rounds):
        status, post_ms, got = await comment(f"Update {round_ + 1}: failover in progress")
        posts.append(post_ms)
        statuses.append(status)
        latencies += got
        missing += count - len(got)
        await asyncio.sleep(2)
    poster.stdin.close()
    await poster.wait()
    fanout = {
        "sockets": count, "opened": len(live), "open_failures": len(failed_open), "connect_s": connect_s,
        "rounds": rounds, "post_status": sorted(set(statuses)), "post_ms": pct(posts, 50), "post_max_ms": max(posts),
        "received": len(latencies), "missing": missing, "outbox_backlog_at_start": data.get("outbox_backlog", 0),
        "p50": pct(latencies, 50), "p95": pct(latencies, 95), "p99": pct(latencies, 99), "max": pct(latencies, 100),
    }
    # Reconnect storm: every socket dropped at once, then every client reconnects and resumes at once.
    for c in clients:
        c.drop()
    await asyncio.sleep(1)
    storm_started = time.perf_counter()
    statuses: list = []
    resumed_at: list[float] = []

    async def reconnect(c: Client):
        # Everyone comes back at once (the storm); after a failure each client waits as the browser
        # client does (static/js/live.js): "full jitter" backoff, uniform in [0, min(30, 2^(n-1))) s.
        for attempt in range(1, 21):
            try:
                status = await c.open()
            except Exception:  # noqa: BLE001 - a refused handshake: retry like the browser client
                status = 0
            statuses.append(status)
            if status in (200, 201):
                try:
                    await c.ws.send(json.dumps({"action": "resume", "since": c.last_id}))
                    await asyncio.wait_for(c.resumed.wait(), WAIT)
                except Exception:  # noqa: BLE001 - the socket dropped before resuming: try again
                    statuses.append(0)
                else:
                    resumed_at.append(time.perf_counter() - storm_started)
                    return
            await asyncio.sleep(random.uniform(0, min(30.0, 2.0 ** (attempt - 1))))

    # Bounded: a client that has not resumed after 90 s counts as not resumed.
    tasks = [asyncio.create_task(reconnect(c)) for c in clients]
    await asyncio.wait(tasks, timeout=90)
    for task in tasks:
        task.cancel()
    storm = {
        "clients": count, "resumed": len(resumed_at), "http_5xx": sum(1 for s in statuses if isinstance(s, int) and s >= 500),
        "socket_errors": sum(1 for s in statuses if s == 0), "attempts": len(statuses),
        "last_resumed_s": max(resumed_at) if resumed_at else None, "p50_resumed_s": pct(resumed_at, 50),
    }
    for c in clients:
        c.drop()
    return {"fanout": fanout, "storm": storm}


def run(base: str, data: dict, count: int, rounds: int = 3) -> dict:
    return asyncio.run(run_async(base, data, count, rounds))
