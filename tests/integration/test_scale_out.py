"""Scale-out: two ASGI processes and two Celery workers on one PostgreSQL and one Redis.

What happens through one server reaches sockets held by the other, and a burst of 200
notifications reaches every recipient exactly once, live (de-duplicated by id as the browser
does; raw frames are counted too) and by e-mail, with both workers taking from the same queue.
"""
from __future__ import annotations

import email
import json
import threading
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

import pytest
from django.conf import settings
from websockets.sync.client import connect

from accounts import services as account_services
from accounts.models import Role
from feeds import services as feeds
from feeds.models import Notification
from tests.support import processes
from tests.support.processes import http, wait_for
from tickets import services as tickets

pytestmark = pytest.mark.integration

RECIPIENTS = 20  # end users following the incident, each holding one socket
ACTORS = 10  # agents replying once each: replies from different people never coalesce


class Listener:
    """One socket, read on its own thread like a browser tab; keeps every raw frame."""

    def __init__(self, sockets: ExitStack, base: str, user, name: str):
        self.user = user
        self.name = name
        url = base.replace("http://", "ws://") + f"/ws/live/?ticket={feeds.live_ticket_issue(user=user)}"
        self.ws = sockets.enter_context(connect(url, open_timeout=20))
        sockets.callback(self.stop)
        welcome = json.loads(self.ws.recv(timeout=20))
        assert welcome["type"] == "welcome", welcome
        self.frames: list[dict] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        while not self._stop.is_set():
            try:
                raw = self.ws.recv(timeout=0.5)
            except TimeoutError:
                continue
            except Exception:  # noqa: BLE001 - closed: the assertions report what is missing
                return
            self.frames.append(json.loads(raw))

    def ids(self, kind: str) -> list[int]:
        return [f[kind]["id"] for f in list(self.frames) if f.get("type") == kind]

    def activities(self) -> list[dict]:
        return [f["activity"] for f in list(self.frames) if f.get("type") == "activity"]

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=5)


def post(base: str, path: str, token: str, body: dict):
    status, answer = http("POST", f"{base}{path}", body=body, headers={"Authorization": f"Token {token}"}, timeout=30)
    assert status == 201, (path, status, answer)
    return answer


def mails(directory: Path) -> list[email.message.Message]:
    """Every message the file e-mail backend wrote (one file per connection, messages separated by a rule)."""
    out = []
    for path in sorted(directory.glob("*")) if directory.exists() else []:
        for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if chunk.strip():
                out.append(email.message_from_bytes(chunk))
    return out


def mail_key(message) -> tuple[str, str]:
    """(recipient, the link the e-mail carries): one notification's e-mail."""
    body = message.get_payload(decode=True).decode()
    links = [line.strip() for line in body.splitlines() if line.startswith(settings.SITE_URL.rstrip("/"))]
    return message["To"], links[0] if links else ""


def finished_tasks(worker) -> int:
    return worker.log().count(" succeeded in ")


def test_two_servers_two_workers_deliver_every_notification_once(stack_env, log_dir, make_user, alice, bob, record_property):
    workers, servers = [], []
    sockets = ExitStack()
    try:
        # Two workers on one queue; one of them also runs the outbox sweep, which races the tasks.
        workers.append(processes.start_celery_worker(stack_env, log_dir, beat=True, name="worker-a"))
        workers.append(processes.start_celery_worker(stack_env, log_dir, name="worker-b"))
        servers.extend(processes.start_asgi_server(stack_env, log_dir) for _ in range(2))
        base_a, base_b = (s.extra["base_url"] for s in servers)

        # 1. A wall followed by someone whose socket is on server A; the post is written through B.
        fan = make_user("fan")
        feeds.follow_create(actor=fan, target_type="user", key="bob")
        _, bob_token = account_services.api_token_create(user=bob)
        fan_socket = Listener(sockets, base_a, fan, "fan@A")
        post(base_b, "/api/v1/posts/", bob_token, {"body": "Maintenance tonight at 22:00", "wall": {"type": "user", "key": "bob"}})
        wait_for(lambda: [a for a in fan_socket.activities() if a["verb"] == "posted" and a["actor"]["username"] == "bob"],
                 timeout=30, interval=0.1, what="the post written through B on the socket held by A")

        # 2. The burst: 20 followers, half of them on each server; 10 agents reply, alternating servers.
        incident = tickets.ticket_create(actor=alice, kind="incident", title="Mail is down", impact=1, urgency=2,
                                         visibility="public")
        people = [make_user(f"affected{i}") for i in range(RECIPIENTS)]
        for person in people:
            tickets.ticket_follow(actor=person, ticket=incident)
        agents = [make_user(f"agent{i}", role=Role.AGENT, team=bob.team) for i in range(ACTORS)]
        tokens = [account_services.api_token_create(user=agent)[1] for agent in agents]
        burst = [
            Listener(sockets, base_a if n % 2 == 0 else base_b, person, f"{person.username}@{'AB'[n % 2]}")
            for n, person in enumerate(people)
        ]

        started = time.monotonic()
        for n, token in enumerate(tokens):
            post(base_b if n % 2 == 0 else base_a, f"/api/v1/tickets/{incident.pk}/comments/", token, {"body": f"Update {n}: still on it"})

        def stored():
            return {
                listener.user.pk: set(Notification.objects.filter(recipient=listener.user).values_list("id", flat=True))
                for listener in burst
            }

        # Above FANOUT_INLINE_MAX people (followers plus the agents who replied and so follow) the
        # workers write the notifications, after the requests answered: wait for them.
        # One notification per reply per follower: replies from different agents do not coalesce.
        wait_for(lambda: [len(ids) for ids in stored().values()] == [ACTORS] * RECIPIENTS,
                 timeout=60, interval=0.2, what="every reply's notification for every follower")
        expected = stored()

        def all_live():
            return all(expected[ls.user.pk] <= set(ls.ids("notification")) for ls in burst) and all(
                len(set(ls.ids("activity"))) >= ACTORS for ls in burst
            )

        wait_for(all_live, timeout=45, interval=0.2, what="every notification on every socket")
        live_seconds = time.monotonic() - started

        every_note = list(Notification.objects.filter(url__startswith=incident.get_absolute_url()).select_related("recipient"))
        wanted_mail = Counter((n.recipient.email, settings.SITE_URL.rstrip("/") + n.url) for n in every_note)
        mail_dir = Path(stack_env["EMAIL_FILE_PATH"])
        wait_for(lambda: len(mails(mail_dir)) >= len(wanted_mail), timeout=45, interval=0.25, what="every e-mail")
        time.sleep(2)  # anything sent twice would arrive now
        mail_seconds = time.monotonic() - started

        # Live: each recipient has each of their notifications, and nobody else's.
        duplicates = {"notification": 0, "activity": 0}
        for listener in burst:
            notes = listener.ids("notification")
            assert set(notes) == expected[listener.user.pk], listener.name
            duplicates["notification"] += len(notes) - len(set(notes))
            activities = listener.ids("activity")
            duplicates["activity"] += len(activities) - len(set(activities))
        # Every socket heard the same ten replies.
        replies = {a["id"] for ls in burst for a in ls.activities() if a["verb"] == "commented"}
        assert len(replies) == ACTORS
        for listener in burst:
            assert replies <= set(listener.ids("activity")), listener.name
        record_property("raw_duplicate_frames", duplicates)
        print(f"\nscale-out: {RECIPIENTS * ACTORS} notifications live in {live_seconds:.1f}s, "
              f"{len(wanted_mail)} e-mails by {mail_seconds:.1f}s; raw duplicate frames: {duplicates}")
        # The server de-duplicates notification frames per socket.
        assert duplicates["notification"] == 0

        # E-mail: exactly one per notification, to its recipient, across both workers.
        about_incident = settings.SITE_URL.rstrip("/") + incident.get_absolute_url()
        sent = Counter(key for key in map(mail_key, mails(mail_dir)) if key[1].startswith(about_incident))
        assert sent == wanted_mail, {k: v for k, v in (sent - wanted_mail).items()} or set(wanted_mail) - set(sent)
        assert all(finished_tasks(worker) > 0 for worker in workers), [w.log()[-2000:] for w in workers]
        assert all(server.alive() for server in servers)
    finally:
        sockets.close()
        for server in servers:
            server.stop()
        for worker in workers:
            worker.stop()
