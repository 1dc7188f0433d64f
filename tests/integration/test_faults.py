"""Reliability under faults, on the real stack: uvicorn, Celery workers, PostgreSQL and a private
redis-server that the tests stop, kill and restart (nobody else uses it).

Sizes are small for CI and can be raised through the environment:
FAULT_SOCKETS (200; about 70 s on 2 cores, up to 2 minutes when the machine is busy), FAULT_REDIS_OUTAGE_SECONDS (10), FAULT_BURST_FOLLOWERS (20),
FAULT_BURST_COMMENTS (8), FAULT_OUTBOUND_POSTS (30).
"""
from __future__ import annotations

import asyncio
from http.cookiejar import CookieJar
import json
import os
import random
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from email import message_from_string
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from accounts import services as account_services
from accounts.models import Role
from feeds import selectors
from feeds.models import Activity, Notification, OutboxMessage
from tickets import services as tickets
from tests.conftest import PASSWORD
from tests.support import processes
from tests.support.processes import http, wait_for
from tests.support.redis_server import RedisServer
from tests.support.webhook_target import Target
from tests.policies.conftest import allow_loopback, make_channel, make_policy  # noqa: F401 - shared fixtures
from policies.models import OutboundPost, OutboundStatus

pytestmark = pytest.mark.integration

SOCKETS = int(os.environ.get("FAULT_SOCKETS", "200"))
OUTAGE_SECONDS = float(os.environ.get("FAULT_REDIS_OUTAGE_SECONDS", "10"))
BURST_FOLLOWERS = int(os.environ.get("FAULT_BURST_FOLLOWERS", "20"))
BURST_COMMENTS = int(os.environ.get("FAULT_BURST_COMMENTS", "8"))
OUTBOUND_POSTS = int(os.environ.get("FAULT_OUTBOUND_POSTS", "30"))


@pytest.fixture
def private_redis(tmp_path):
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()


@pytest.fixture
def fault_env(stack_env, private_redis):
    """The stack's environment pointed at the private Redis (broker, cache and channel layer).
    Coalescing is off: the burst counts one e-mail per reply, and one agent's replies would merge."""
    return {
        **stack_env, "REDIS_URL": private_redis.url(), "TOKEN_THROTTLE_RATE": "1000/min",
        "NOTIFICATION_COALESCE_SECONDS": "0",
    }


@pytest.fixture
def stack(fault_env, log_dir):
    started = []

    def asgi(env_overrides: dict | None = None):
        proc = processes.start_asgi_server({**fault_env, **(env_overrides or {})}, log_dir)
        started.append(proc)
        return proc

    def worker(*, beat: bool = True, env_overrides: dict | None = None, name: str = "worker"):
        proc = processes.start_celery_worker({**fault_env, **(env_overrides or {})}, log_dir, beat=beat, name=name)
        started.append(proc)
        return proc

    yield type("Stack", (), {"asgi": staticmethod(asgi), "worker": staticmethod(worker), "started": started})
    for proc in reversed(started):
        proc.stop()


def token(user) -> str:
    return account_services.api_token_create(user=user)[1]


def timed_post(url: str, body: dict, key: str) -> tuple[int, dict, float]:
    started = time.monotonic()
    status, answer = http("POST", url, body=body, headers={"Authorization": f"Token {key}"}, timeout=30)
    return status, answer, time.monotonic() - started


class Browser:
    """A signed-in session over plain HTTP, for the server-rendered pages."""

    def __init__(self, base: str, username: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        page = self.get("/accounts/login/")[1]
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode({"username": username, "password": PASSWORD, "csrfmiddlewaretoken": csrf}).encode()
        request = urllib.request.Request(f"{base}/accounts/login/", data=form, headers={"Referer": f"{base}/accounts/login/"})
        with self.opener.open(request, timeout=30) as response:
            assert response.url == f"{base}/", "signed in"

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(f"{self.base}{path}", timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")


# --- 1. a notification burst through worker crashes and a Redis restart -------------------------

DELIVERY = re.compile(r"^X-Servicedesk-Delivery: (\S+)$", re.MULTILINE)


def delivered(mail_dir: Path) -> Counter:
    """Delivery keys of every e-mail written, counted (one file per message)."""
    keys: Counter = Counter()
    for path in mail_dir.glob("*.log") if mail_dir.exists() else []:
        keys.update(DELIVERY.findall(path.read_text(errors="replace")))
    return keys


def hold_next_send(markers: Path) -> None:
    """Hold the next e-mail send (see PausableFileBackend) and wait until a worker is inside it."""
    for old in markers.glob("sending-*"):
        old.unlink()
    (markers / "pause").write_text("hold")
    wait_for(lambda: any(markers.glob("sending-*")), timeout=60, what="a send to start")


def kill_mid_send(worker, markers: Path) -> None:
    """kill -9 the worker while it is inside an e-mail send."""
    hold_next_send(markers)
    worker.kill()
    (markers / "pause").unlink()


def test_notification_burst_survives_two_worker_kills_and_a_redis_restart(bob, make_user, stack, private_redis, stack_env, tmp_path):
    mail_dir = Path(stack_env["EMAIL_FILE_PATH"])
    markers = tmp_path / "markers"
    markers.mkdir()
    worker_env = {"EMAIL_BACKEND": "tests.support.email_backends.PausableFileBackend", "SLOW_EMAIL_MARKER_DIR": str(markers)}
    # Every comment is bob's: without this his repeats coalesce into one notification (and e-mail).
    base = stack.asgi(env_overrides={"NOTIFICATION_COALESCE_SECONDS": "0"}).extra["base_url"]
    alice = make_user("alice", display_name="Alice Martin")
    ticket = tickets.ticket_create(actor=alice, kind="incident", title="Mail server is slow", visibility="public")
    for i in range(BURST_FOLLOWERS):
        tickets.ticket_follow(actor=make_user(f"follower{i}"), ticket=ticket)
    first_row = (OutboxMessage.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    bob_key = token(bob)
    url = f"{base}/api/v1/tickets/{ticket.pk}/comments/"
    took = []

    def comments(count: int, label: str) -> None:
        for n in range(count):
            status, answer, seconds = timed_post(url, {"body": f"{label} update {n}"}, bob_key)
            assert status == 201, answer
            took.append(seconds)

    quarter = max(1, BURST_COMMENTS // 4)
    first = stack.worker(env_overrides=worker_env, name="first")
    comments(quarter, "first")
    wait_for(lambda: sum(delivered(mail_dir).values()) >= 5, timeout=60, what="the first e-mails")
    kill_mid_send(first, markers)  # kill -9 number one, mid-send, tasks still queued in Redis

    comments(quarter, "no worker")
    second = stack.worker(env_overrides=worker_env, name="second")
    hold_next_send(markers)  # the second worker is inside a task when Redis goes away
    private_redis.stop()  # Redis dies: queued tasks, unacked tasks and channel groups are lost
    comments(quarter, "redis down")
    seen = len(second.log())
    (markers / "pause").unlink()  # the task finishes while Redis is down: its ack fails
    wait_for(lambda: "Connection to broker lost" in second.log()[seen:] or not second.alive(), timeout=30,
             what="the worker to notice the lost broker")
    private_redis.start()
    comments(BURST_COMMENTS - 3 * quarter, "redis back")
    before = sum(delivered(mail_dir).values())
    wait_for(lambda: sum(delivered(mail_dir).values()) > before, timeout=60, what="e-mails after the restart")
    assert second.alive(), "the worker rode out the Redis restart"
    kill_mid_send(second, markers)  # kill -9 number two
    survivor = stack.worker(env_overrides=worker_env, name="survivor")

    rows = OutboxMessage.objects.filter(pk__gte=first_row, kind=OutboxMessage.Kind.EMAIL)
    # Each comment's e-mail rows are written when a worker delivers its chunk of followers, and the
    # chunks of the comments posted while Redis was down come back through the sweep: wait for them.
    wait_for(lambda: rows.count() >= BURST_COMMENTS * BURST_FOLLOWERS, timeout=120, interval=0.5,
             what="one e-mail row per follower per comment")
    expected = set(rows.values_list("key", flat=True))
    assert len(expected) >= BURST_COMMENTS * BURST_FOLLOWERS, "one e-mail per follower per comment"
    wait_for(lambda: set(delivered(mail_dir)) >= expected, timeout=120, interval=0.5, what="every e-mail")
    wait_for(lambda: not rows.exclude(status=OutboxMessage.Status.SENT).exists(), timeout=30, what="every row marked sent")
    # A few more sweeps run (counted in the worker's log); none sends anything again.
    sweeps = survivor.log().count("feeds.tasks.outbox_sweep[")
    wait_for(lambda: survivor.log().count("feeds.tasks.outbox_sweep[") >= sweeps + 6, timeout=60, what="more sweeps")

    counts = delivered(mail_dir)
    assert set(counts) == expected, "0 committed notifications undelivered"
    assert [key for key, n in counts.items() if n > 1] == [], "0 delivered twice"
    emails = Notification.objects.filter(activity__stream=f"ticket:{ticket.pk}", activity__verb="commented")
    assert emails.count() == len(expected), "every committed notification wanted its e-mail"
    assert max(took) < 2, f"comment POSTs answer at once even while Redis is down, slowest {sorted(took)[-3:]}"


# --- 2. sockets through a Redis outage ------------------------------------------------------------


class LiveClient:
    """What static/js/live.js does, minus the DOM: one socket, reconnect with backoff, subscribe on
    open, `resume` from the highest activity id seen after every welcome."""

    def __init__(self, base: str, user, api_token: str, stream: str, cursor: int):
        self.base, self.user, self.api_token, self.stream = base, user, api_token, stream
        self.cursor = cursor
        self.activity_ids: list[int] = []
        self.welcomes = 0
        self.resumed = 0
        self.close_codes: Counter = Counter()
        self.http_refusals: Counter = Counter()
        self.tickets_issued = 0
        self.burned_tickets = 0
        self.open = False

    async def new_ticket(self) -> str:
        status, body = await asyncio.to_thread(
            http, "POST", f"{self.base}/api/v1/live/ticket/", headers={"Authorization": f"Token {self.api_token}"}, timeout=30
        )
        assert status == 200, (status, body)
        self.tickets_issued += 1
        return body["ticket"]

    async def run(self, stop: asyncio.Event) -> None:
        url = self.base.replace("http://", "ws://") + "/ws/live/?ticket="
        ticket = await self.new_ticket()
        backoff = 0.5
        refused_cleanly = False  # the last attempt was told "try again later" before any welcome
        while not stop.is_set():
            welcomed = False
            try:
                async with connect(url + ticket, open_timeout=20, close_timeout=2, ping_interval=None) as ws:
                    await ws.send(json.dumps({"action": "subscribe", "stream": self.stream}))
                    async for raw in ws:
                        frame = json.loads(raw)
                        kind = frame.get("type")
                        if kind == "welcome":
                            welcomed, self.open, backoff = True, True, 0.5
                            self.welcomes += 1
                            await ws.send(json.dumps({"action": "resume", "since": self.cursor}))
                        elif kind == "activity":
                            self.activity_ids.append(frame["activity"]["id"])
                            self.cursor = max(self.cursor, frame["activity"]["id"])
                        elif kind == "resumed":
                            self.resumed += 1
                        if stop.is_set():
                            break
                    code = ws.close_code
            except ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else None
            except InvalidStatus as refused:
                code = None
                self.http_refusals[refused.response.status_code] += 1
                if refused.response.status_code == 403 and refused_cleanly:
                    self.burned_tickets += 1  # the 1013 refusal spent the ticket after all
            except (OSError, TimeoutError) as error:
                code = None
                self.http_refusals[type(error).__name__] += 1
            if code is not None:
                self.close_codes[code] += 1
            self.open = False
            if stop.is_set():
                return
            refused_cleanly = code == 1013 and not welcomed
            if not refused_cleanly:
                # A welcomed socket spent its ticket; after a time-out nobody knows: ask again,
                # as a page reload would. Only a clean refusal keeps the ticket for the retry.
                ticket = await self.new_ticket()
            await asyncio.sleep(backoff * (1 + random.random()))
            backoff = min(backoff * 2, 4)


def test_sockets_ride_out_a_redis_outage_and_resume_without_gaps(bob, make_user, stack, private_redis):
    base = stack.asgi().extra["base_url"]
    alice = make_user("alice", display_name="Alice Martin")
    ticket = tickets.ticket_create(actor=alice, kind="incident", title="VPN drops every hour", visibility="public")
    stream = f"ticket:{ticket.pk}"
    people = [make_user(f"viewer{i}") for i in range(max(1, min(20, SOCKETS)))]
    keys = {p.pk: token(p) for p in people}
    bob_key = token(bob)
    comments_url = f"{base}/api/v1/tickets/{ticket.pk}/comments/"
    baseline = Activity.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    clients = [LiveClient(base, people[i % len(people)], keys[people[i % len(people)].pk], stream, baseline) for i in range(SOCKETS)]
    posted: list[int] = []

    def comment(text: str) -> float:
        status, answer, took = timed_post(comments_url, {"body": text}, bob_key)
        assert status == 201, answer
        posted.append(answer["id"])
        return took

    async def scenario():
        stop = asyncio.Event()
        tasks = []
        for client in clients:  # open in small waves: 2 cores serve the handshakes
            tasks.append(asyncio.create_task(client.run(stop)))
            if len(tasks) % 20 == 0:
                await asyncio.sleep(0.2)
        await wait_async(lambda: all(c.open and c.resumed for c in clients), 120, "every socket to open")

        for n in range(3):
            await asyncio.to_thread(comment, f"Before the outage {n}")
        await wait_async(lambda: all(len(c.activity_ids) >= 3 for c in clients), 60, "live comments before the outage")

        browser = await asyncio.to_thread(Browser, base, "alice")
        private_redis.stop()
        outage_started = time.monotonic()
        took = []
        pages = []
        n = 0
        while time.monotonic() - outage_started < OUTAGE_SECONDS:
            took.append(await asyncio.to_thread(comment, f"During the outage {n}"))
            n += 1
            for path in ("/", f"/tickets/{ticket.pk}/", "/notifications/", "/feed/", "/leaderboard/"):
                pages.append((path, (await asyncio.to_thread(browser.get, path))[0]))
            status, _ = await asyncio.to_thread(http, "GET", f"{base}/api/v1/tickets/{ticket.pk}/",
                                                headers={"Authorization": f"Token {bob_key}"}, timeout=30)
            pages.append(("api ticket", status))
            status, _ = await asyncio.to_thread(http, "POST", f"{base}/api/v1/auth/token/",
                                                body={"username": "alice", "password": PASSWORD}, timeout=30)
            pages.append(("api token (throttled)", status))
            await asyncio.sleep(0.5)
        private_redis.start()

        for n in range(2):
            await asyncio.to_thread(comment, f"After the outage {n}")
        expected = {}
        for person in people:
            found = await asyncio.to_thread(
                in_thread, lambda p=person: [a.pk for a in selectors.activities_since(user=p, since=baseline, streams=frozenset({stream}))]
            )
            expected[person.pk] = found

        def caught_up():
            return all(c.open and sorted(set(c.activity_ids)) == expected[c.user.pk] for c in clients)

        try:
            await wait_async(caught_up, 120, "every socket to reconnect and resume")
        finally:
            stop.set()
            await asyncio.wait(tasks, timeout=30)
        return took, pages, expected

    took, pages, expected = asyncio.run(scenario())

    assert len(posted) >= 3 + 1 + 2
    assert max(took) < 2, f"comment POSTs during the outage answer at once, took {sorted(took)[-3:]}"
    assert all(status < 500 for _, status in pages), [p for p in pages if p[1] >= 500]
    assert all(status == 200 for _, status in pages), pages
    for client in clients:
        assert sorted(set(client.activity_ids)) == expected[client.user.pk], "0 gaps compared with PostgreSQL"
        assert len(client.activity_ids) == len(set(client.activity_ids)), "0 duplicate activities"
        assert client.welcomes >= 2, "every socket was dropped by the outage and reconnected"
        assert 500 not in client.http_refusals, client.http_refusals
        assert client.burned_tickets == 0, "a refusal during the outage keeps the ticket for the retry"
    codes = sum((c.close_codes for c in clients), Counter())
    assert codes[1013] > 0, f"refusals and drops during the outage say 'try again later': {codes}"
    assert all(len(expected[p]) == len(posted) for p in expected), "each comment is one activity on the ticket"


def in_thread(fn):
    """Run ORM work on a worker thread and close that thread's connection afterwards."""
    from django.db import connection

    try:
        return fn()
    finally:
        connection.close()


async def wait_async(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


# --- 3. an unreliable outbound target ----------------------------------------------------------

OUTBOUND_WORKER_ENV = {
    "OUTBOUND_ALLOWED_HOSTS": "127.0.0.1",  # the flaky target is local
    "POLICIES_HTTP_TIMEOUT": "1.5",
    "POLICIES_CONNECT_TIMEOUT": "1",
    "POLICIES_RETRY_BASE_SECONDS": "0.3",
    "POLICIES_SWEEP_SECONDS": "1",
    "POLICIES_STUCK_GRACE_SECONDS": "30",
}


def flaky(body: bytes, attempt: int) -> str:
    """20 % of requests answer 500, 10 % hang; decided by the post's text and the attempt, so runs
    repeat (the body also carries the delivery key, which holds ids that differ between runs)."""
    roll = random.Random(f"{json.loads(body)['text']!r}:{attempt}").random()
    return "hang" if roll < 0.1 else "fail" if roll < 0.3 else "ok"


def test_unreliable_target_gets_no_duplicates_and_every_ambiguous_post_is_listed(
    bob, dave, stack, make_channel, make_policy, allow_loopback  # noqa: F811
):
    base = stack.asgi().extra["base_url"]
    worker = stack.worker(env_overrides=OUTBOUND_WORKER_ENV)
    bob_key = token(bob)
    with Target(decide=flaky) as target:
        channel = make_channel(name="Flaky hook", kind="webhook", audience="internal", config={"url": target.url})
        make_policy(channel)
        ids = []
        for n in range(OUTBOUND_POSTS):
            status, answer = http("POST", f"{base}/api/v1/outbound/", body={"channel": channel.pk, "body": f"Status update {n}"},
                                  headers={"Authorization": f"Token {bob_key}"}, timeout=30)
            assert status == 201 and answer["status"] == "queued", answer
            ids.append(answer["id"])
        posts = OutboundPost.objects.filter(pk__in=ids)
        unsettled = (OutboundStatus.QUEUED, OutboundStatus.SENDING)
        wait_for(lambda: not posts.filter(status__in=unsettled).exists(), timeout=120, interval=0.5, what="every post to settle")
        sweeps = worker.log().count("policies.tasks.outbound_sweep[")
        wait_for(lambda: worker.log().count("policies.tasks.outbound_sweep[") >= sweeps + 4, timeout=60, what="more sweeps")

        by_body: dict[str, list[str]] = {}
        for request in target.requests:
            by_body.setdefault(json.loads(request["body"])["text"], []).append(request["outcome"])

    final = dict(posts.values_list("body", "status"))
    outcomes = Counter(o for seen in by_body.values() for o in seen)
    assert outcomes["fail"] and outcomes["hang"] and outcomes["ok"], f"the target misbehaved as asked: {outcomes}"
    duplicates = [body for body, seen in by_body.items() if sum(o in ("ok", "hang") for o in seen) > 1]
    assert duplicates == [], "0 duplicate deliveries: nothing is sent again after an accepted or unanswered request"
    ambiguous = {body for body, status in final.items() if status == OutboundStatus.AMBIGUOUS}
    assert ambiguous == {body for body, seen in by_body.items() if "hang" in seen}, "exactly the unanswered ones are ambiguous"
    for body, status in final.items():
        seen = by_body.get(body, [])
        if status == OutboundStatus.SENT:
            assert seen.count("ok") == 1, (body, seen)
        elif status == OutboundStatus.FAILED:
            assert set(seen) == {"fail"}, (body, seen)
        else:
            assert status == OutboundStatus.AMBIGUOUS and seen[-1] == "hang", (body, status, seen)

    # Every ambiguous post is listed for a person to settle: the review page and the API.
    status, page = Browser(base, "dave").get("/communications/review/")
    assert status == 200
    assert f"Ambiguous deliveries ({len(ambiguous)})" in page
    for post in posts.filter(status=OutboundStatus.AMBIGUOUS):
        assert f"Post #{post.pk}</a>" in page
        status, detail = http("GET", f"{base}/api/v1/outbound/{post.pk}/", headers={"Authorization": f"Token {bob_key}"})
        assert status == 200 and detail["status"] == "ambiguous" and detail["attempts"][-1]["outcome"] == "ambiguous"


# --- 4. a big incident's comment while Redis is down ---------------------------------------------

INCIDENT_FOLLOWERS = int(os.environ.get("FAULT_INCIDENT_FOLLOWERS", "60"))


def test_a_big_incident_comment_during_a_redis_outage_answers_fast_and_every_follower_gets_one_email(
    bob, make_user, stack, private_redis, stack_env
):
    """Per-person delivery goes in chunks (FANOUT_CHUNK 25 here); while Redis is away nothing can
    be enqueued, so the sweep, which beat keeps scheduling, delivers every chunk once it is back."""
    mail_dir = Path(stack_env["EMAIL_FILE_PATH"])
    chunks = {"FANOUT_CHUNK": "25", "OUTBOX_EMAIL_BATCH": "10"}
    base = stack.asgi(env_overrides=chunks).extra["base_url"]
    alice = make_user("alice", display_name="Alice Martin")
    ticket = tickets.ticket_create(actor=alice, kind="incident", title="Nobody can print", visibility="public")
    followers = [make_user(f"follower{i}") for i in range(INCIDENT_FOLLOWERS)]
    for person in followers:
        tickets.ticket_follow(actor=person, ticket=ticket)
    bob_key = token(bob)
    worker = stack.worker(env_overrides=chunks, name="sweeper")

    private_redis.stop()
    status, answer, seconds = timed_post(f"{base}/api/v1/tickets/{ticket.pk}/comments/", {"body": "Printers are back"}, bob_key)
    assert status == 201, answer
    assert seconds < 2, f"the comment answered in {seconds:.2f}s with Redis down"
    activity = Activity.objects.filter(stream=f"ticket:{ticket.pk}", verb="commented").latest("id")
    rows = OutboxMessage.objects.filter(key__startswith=f"deliver:{activity.pk}:")
    assert rows.count() == 3 and not rows.exclude(status=OutboxMessage.Status.PENDING).exists(), "62 people, 3 chunks"
    time.sleep(OUTAGE_SECONDS)
    assert worker.alive(), "the worker and its beat ride out the outage"
    private_redis.start()

    people = {p.pk for p in followers} | {alice.pk}
    notes = Notification.objects.filter(activity=activity)
    wait_for(lambda: notes.count() == len(people), timeout=120, interval=0.5, what="every follower to be told")
    expected = {f"notification:{n}:email" for n in notes.values_list("pk", flat=True)}
    wait_for(lambda: set(delivered(mail_dir)) >= expected, timeout=120, interval=0.5, what="every e-mail")
    # A few more sweeps run (counted in the worker's log); none sends anything again.
    sweeps = worker.log().count("feeds.tasks.outbox_sweep[")
    wait_for(lambda: worker.log().count("feeds.tasks.outbox_sweep[") >= sweeps + 3, timeout=60, what="more sweeps")
    counts = delivered(mail_dir)
    assert {key for key in counts if key.startswith("notification:")} == expected
    assert [key for key, n in counts.items() if n > 1] == [], "each follower got exactly one e-mail"
    assert set(notes.values_list("recipient_id", flat=True)) == people
    assert not rows.exclude(status=OutboxMessage.Status.SENT).exists()
