"""A comment on a big incident, on the real stack (uvicorn, Celery worker, Redis, PostgreSQL):
the request does not grow with the followers, and every follower with a socket hears of it.

Sizes can be raised through the environment: INCIDENT_FOLLOWERS (500), INCIDENT_SOCKETS (250).
"""
from __future__ import annotations

import asyncio
import json
import os
import statistics
import time

import pytest
from websockets.asyncio.client import connect

from accounts import services as account_services
from feeds import services as feed_services
from feeds.models import Activity, OutboxMessage
from tests.support.processes import http, wait_for
from tickets import services as tickets

pytestmark = pytest.mark.integration

FOLLOWERS = int(os.environ.get("INCIDENT_FOLLOWERS", "500"))
SOCKETS = min(FOLLOWERS, int(os.environ.get("INCIDENT_SOCKETS", "250")))


def comment(base: str, key: str, ticket, body: str) -> float:
    started = time.monotonic()
    status, answer = http(
        "POST", f"{base}/api/v1/tickets/{ticket.pk}/comments/", body={"body": body},
        headers={"Authorization": f"Token {key}"}, timeout=60,
    )
    assert status == 201, answer
    return time.monotonic() - started


def drained() -> bool:
    return not OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).exclude(kind="email").exists()


class Listener:
    """One follower's socket: optionally on the ticket's page (subscribed to its stream)."""

    def __init__(self, base: str, ticket_key: str, stream: str | None):
        self.url = base.replace("http://", "ws://") + "/ws/live/?ticket=" + ticket_key
        self.stream = stream
        self.ready = asyncio.Event()
        self.activities: dict[int, float] = {}
        self.notifications: list[dict] = []
        self.unread: list[int] = []

    async def run(self, stop: asyncio.Event) -> None:
        async with connect(self.url, open_timeout=60, close_timeout=2, ping_interval=None, max_queue=None) as ws:
            welcome = json.loads(await ws.recv())
            assert welcome["type"] == "welcome", welcome
            if self.stream:
                await ws.send(json.dumps({"action": "subscribe", "stream": self.stream}))
                frame = json.loads(await ws.recv())
                assert frame == {"type": "subscribed", "stream": self.stream}, frame
            self.ready.set()
            while not stop.is_set():
                try:
                    raw = await asyncio.wait_for(ws.recv(), 0.5)
                except TimeoutError:
                    continue
                frame = json.loads(raw)
                if frame["type"] == "activity":
                    self.activities.setdefault(frame["activity"]["id"], time.monotonic())
                elif frame["type"] == "notification":
                    self.notifications.append(frame["notification"])
                elif frame["type"] == "unread":
                    self.unread.append(frame["count"])

    def told(self, url: str) -> bool:
        """A new notification, or (bob's repeats coalesce into one) the badge going up again."""
        return any(note["url"].startswith(url) for note in self.notifications) or bool(self.unread)


def test_a_comment_on_an_incident_with_many_followers_answers_fast_and_reaches_every_socket(
    make_user, alice, bob, asgi_server, start_worker
):
    base = asgi_server.extra["base_url"]
    small = tickets.ticket_create(actor=alice, kind="incident", title="One printer jams", visibility="public")
    big = tickets.ticket_create(actor=alice, kind="incident", title="E-mail is down for everyone", visibility="public")
    followers = [make_user(f"follower{n}") for n in range(FOLLOWERS)]
    for person in followers:
        tickets.ticket_follow(actor=person, ticket=big)
    key = account_services.api_token_create(user=bob)[1]
    start_worker()

    # Bob's first comment on each makes him a follower; after that both requests do the same work.
    comment(base, key, small, "Looking into it")
    comment(base, key, big, "Looking into it")
    wait_for(drained, timeout=120, interval=0.5, what="the first fan-out to finish")

    listeners = [
        Listener(base, feed_services.live_ticket_issue(user=person), f"ticket:{big.pk}" if n % 2 == 0 else None)
        for n, person in enumerate(followers[:SOCKETS])
    ]

    async def scenario():
        stop = asyncio.Event()
        tasks = []
        for listener in listeners:  # connect in waves, as browsers do, not all in one instant
            tasks.append(asyncio.create_task(listener.run(stop)))
            if len(tasks) % 25 == 0:
                await asyncio.sleep(0.2)
        await asyncio.wait_for(asyncio.gather(*(listener.ready.wait() for listener in listeners)), 90)

        small_times = [await asyncio.to_thread(comment, base, key, small, f"Small update {n}") for n in range(3)]
        big_time = await asyncio.to_thread(comment, base, key, big, "Mail flows again")
        posted_at = time.monotonic()
        activity = await asyncio.to_thread(
            lambda: Activity.objects.filter(stream=f"ticket:{big.pk}", verb="commented").latest("id").pk
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not all(
            activity in listener.activities and listener.told(big.get_absolute_url()) for listener in listeners
        ):
            await asyncio.sleep(0.2)
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        return small_times, big_time, posted_at, activity

    small_times, big_time, posted_at, activity = asyncio.run(scenario())
    missing = [n for n, listener in enumerate(listeners) if activity not in listener.activities]
    assert missing == [], f"{len(missing)} of {len(listeners)} sockets never got the activity"
    untold = [n for n, listener in enumerate(listeners) if not listener.told(big.get_absolute_url())]
    assert untold == [], f"{len(untold)} sockets never got the notification"
    baseline = statistics.median(small_times)
    assert big_time <= 4 * baseline + 0.3, (
        f"a comment told to {FOLLOWERS} followers took {big_time:.3f}s, one told to 1 took {baseline:.3f}s"
    )
    def spread(group):
        late = sorted(listener.activities[activity] - posted_at for listener in group)
        return f"p50 {late[len(late) // 2] * 1000:.0f} ms, max {late[-1] * 1000:.0f} ms"

    print(f"POST: 1 follower {baseline * 1000:.0f} ms, {FOLLOWERS} followers {big_time * 1000:.0f} ms; activity after "
          f"the response: on the ticket's page {spread(listeners[::2])}, elsewhere {spread(listeners[1::2])}")
