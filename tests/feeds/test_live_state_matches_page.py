"""For every live event kind, what a client builds from a page plus the live frames equals a
fresh load of that page.

A "tab" here does what static/js/live.js and the page scripts do, minus the DOM: it renders the
page, opens /ws/live/ (the real consumer over the Redis channel layer, in process) with the
page's streams, resumes from the ids the page was rendered at, then applies each frame the way
the page's script does (ticket.js, queue.js and leaderboard.js refetch their fragment; question.js
refetches the answers on a hint and offers a reload on a new answer; feed.js offers new items and
fetches the list; the notifications page inserts each notification and live.js keeps the unread
badge). Every scenario also writes something between the render and the socket's welcome: the
moment a page used to lose.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from accounts.models import Role
from communities import services as communities
from feeds import services as feeds
from feeds.models import TimelineEntry
from servicedesk.asgi import application
from tests.feeds.test_live_consumer import HOST, ORIGIN, session_cookie
from tickets import services as tickets

pytestmark = pytest.mark.django_db(transaction=True)

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Element(HTMLParser):
    """Text of the element with a given id, and the values of one attribute inside it."""

    def __init__(self, element_id: str, attribute: str | None):
        super().__init__()
        self.element_id, self.attribute = element_id, attribute
        self.depth = 0
        self.found = False
        self.text: list[str] = []
        self.values: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if not self.depth and attrs.get("id") == self.element_id and not self.found:
            self.found = True
            self.depth = 1 if tag not in VOID else 0
            return
        if self.depth:
            if tag not in VOID:
                self.depth += 1
            if tag in ("time", "script") or "comment-time" in (attrs.get("class") or ""):
                self.skip += 1 if tag not in VOID else 0
                self._skip_depth = self.depth
            if self.attribute and self.attribute in attrs:
                self.values.append(attrs[self.attribute])

    def handle_endtag(self, tag):
        if self.depth and tag not in VOID:
            if self.skip and self.depth == getattr(self, "_skip_depth", -1):
                self.skip -= 1
            self.depth -= 1

    def handle_data(self, data):
        if self.depth and not self.skip:
            self.text.append(data)


def element(html: str, element_id: str, attribute: str | None = None) -> tuple[str, list[str]]:
    parser = _Element(element_id, attribute)
    parser.feed(html)
    assert parser.found, f"#{element_id} is on the page"
    return " ".join(" ".join(parser.text).split()), parser.values


class Tab:
    """One open page with its live socket."""

    def __init__(self, user, path: str):
        self.user, self.path = user, path
        self.client = Client()
        self.client.force_login(user)
        self.html = self.get(path)
        marks = re.search(r'data-live-activity-id="(\d+)" data-live-notification-id="(\d+)"', self.html)
        assert marks, "the page carries the ids it was rendered at"
        self.marks = (int(marks[1]), int(marks[2]))
        self.streams = list(dict.fromkeys(re.findall(r'data-live-stream="([^"]+)"', self.html)))
        self.frames: list[dict] = []
        self.unread = int(re.search(r'id="unread-badge"[^>]*data-count="(\d+)"', self.html)[1])

    def get(self, path: str, htmx: bool = False) -> str:
        response = self.client.get(path, **({"HTTP_HX_REQUEST": "true"} if htmx else {}))
        assert response.status_code == 200, (path, response.status_code)
        return response.content.decode()

    async def open(self):
        cookie = await sync_to_async(session_cookie)(self.user)
        self.comm = WebsocketCommunicator(application, "/ws/live/", headers=[ORIGIN, HOST, (b"cookie", cookie)])
        connected, _ = await self.comm.connect(timeout=10)
        assert connected
        for stream in self.streams:  # live.js subscribes on open
            await self.comm.send_json_to({"action": "subscribe", "stream": stream})
        welcome = await self.comm.receive_json_from(timeout=10)
        assert welcome["type"] == "welcome"
        self.frames.append(welcome)
        # A fresh tab resumes from the page's marks, not from the server's newest ids.
        await self.comm.send_json_to({"action": "resume", "since": self.marks[0], "notifications_since": self.marks[1]})
        await self.until(lambda f: f["type"] == "resumed")

    async def until(self, predicate, timeout: float = 10) -> dict:
        while True:
            frame = await self.comm.receive_json_from(timeout=timeout)
            self.frames.append(frame)
            if predicate(frame):
                return frame

    async def drain(self) -> None:
        """Take whatever else is already on its way (bounded by the quiet period)."""
        while not await self.comm.receive_nothing(timeout=0.5):
            self.frames.append(await self.comm.receive_json_from(timeout=5))

    async def close(self):
        await self.comm.disconnect()

    def activities(self) -> list[dict]:
        return [f["activity"] for f in self.frames if f["type"] == "activity"]

    def notifications(self) -> list[dict]:
        return [f["notification"] for f in self.frames if f["type"] == "notification"]

    def events(self) -> list[dict]:
        return [f["event"] for f in self.frames if f["type"] == "event"]

    def badge(self) -> int:
        """live.js: the welcome sets the count, replayed notifications are in it already, each
        live unread notification adds one, an `unread` frame sets it."""
        count, resuming = self.unread, False
        for frame in self.frames:
            if frame["type"] == "welcome":
                count, resuming = frame["unread"], True
            elif frame["type"] == "resumed":
                resuming = False
            elif frame["type"] == "notification" and not frame["notification"]["read"] and not resuming:
                count += 1
            elif frame["type"] == "unread":
                count = frame["count"]
        return count


def run(scenario):
    async_to_sync(scenario)()


def about(activity: dict, stream: str) -> bool:
    obj = activity.get("object") or {}
    return f"{obj.get('type')}:{obj.get('key')}" == stream


@pytest.fixture
def public_ticket(alice):
    return tickets.ticket_create(actor=alice, kind="incident", title="Printer on fire", visibility="public")


def test_ticket_page_replies_status_and_notes_built_live_equal_a_fresh_load(alice, bob, erin, public_ticket):
    ticket = public_ticket
    stream = f"ticket:{ticket.pk}"
    path = f"/tickets/{ticket.pk}/"

    async def scenario():
        tab = await sync_to_async(Tab)(erin, path)
        # Between the render and the welcome: a reply the page does not show.
        await sync_to_async(tickets.comment_add)(actor=bob, ticket=ticket, body="Looking at it")
        await tab.open()
        await sync_to_async(tickets.comment_add)(actor=bob, ticket=ticket, body="Internal: toner vendor", internal=True)
        await sync_to_async(tickets.ticket_update)(actor=bob, ticket=ticket, status="in_progress")
        await sync_to_async(tickets.comment_add)(actor=alice, ticket=ticket, body="Still smoking")
        await tab.until(lambda f: f["type"] == "activity" and "Still smoking" in f["activity"]["summary"])
        await tab.drain()
        await tab.close()
        return tab

    tab = async_to_sync(scenario)()
    # ticket.js: any activity about this ticket refetches the conversation with its badges.
    assert any(about(a, stream) for a in tab.activities())
    built = tab.get(f"/tickets/{ticket.pk}/conversation/", htmx=True)
    fresh = tab.get(path)
    for element_id, attribute in (("conversation", "data-comment-id"), ("ticket-badges", None)):
        assert element(built, element_id, attribute) == element(fresh, element_id, attribute)
    assert len(element(fresh, "conversation", "data-comment-id")[1]) == 2, "erin sees both replies, not the note"
    assert "Internal" not in " ".join(a["summary"] for a in tab.activities())


def test_notifications_page_and_badge_built_live_equal_a_fresh_load(alice, bob, make_user, public_ticket):
    ticket = public_ticket
    # Replies from two agents: repeats from one actor would coalesce into one notification.
    sam = make_user("sam", role=Role.AGENT, team=bob.team)
    # E-mail only for status changes: the notification is stored read, and still listed.
    feeds.notification_preferences_set(actor=alice, kinds={"ticket.status": {"in_app": False, "email": True}})

    async def scenario():
        tab = await sync_to_async(Tab)(alice, "/notifications/")
        await sync_to_async(tickets.comment_add)(actor=bob, ticket=ticket, body="First look")
        await tab.open()
        await sync_to_async(tickets.ticket_update)(actor=bob, ticket=ticket, status="in_progress")
        await sync_to_async(tickets.comment_add)(actor=sam, ticket=ticket, body="Second look")
        first = (await sync_to_async(lambda: list(alice.notifications.order_by("pk").values_list("pk", flat=True)))())[0]
        await sync_to_async(feeds.notifications_mark_read)(actor=alice, ids=[first])
        await tab.until(lambda f: f["type"] == "unread")
        await tab.drain()
        await tab.close()
        return tab

    tab = async_to_sync(scenario)()
    row = r'id="notification-(\d+)"[^>]*data-target="([^"]*)"'
    shown = re.findall(row, tab.html)
    seen = {pk for pk, _ in shown}
    for note in tab.notifications():  # the page inserts each new one at the top, once,
        if str(note["id"]) not in seen:  # replacing the row about the same thing
            target = note["url"].split("#")[0].split("?")[0] or f"#{note['id']}"
            shown = [(str(note["id"]), target)] + [(pk, t) for pk, t in shown if t != target]
            seen.add(str(note["id"]))
    fresh = tab.get("/notifications/")
    assert shown == re.findall(row, fresh)
    assert len(shown) == 1, "three notifications about one ticket are one row"
    assert "3 updates on" in fresh
    assert tab.badge() == int(re.search(r'id="unread-badge"[^>]*data-count="(\d+)"', fresh)[1]) == 1


def test_feed_built_live_equals_a_fresh_load(alice, bob, erin, public_ticket):
    ticket = public_ticket
    tickets.ticket_follow(actor=erin, ticket=ticket)

    async def scenario():
        tab = await sync_to_async(Tab)(erin, "/feed/")
        await sync_to_async(tickets.comment_add)(actor=bob, ticket=ticket, body="Racing the socket")
        await tab.open()
        await sync_to_async(tickets.comment_add)(actor=alice, ticket=ticket, body="After the welcome")
        await tab.until(lambda f: f["type"] == "activity" and "After the welcome" in f["activity"]["summary"])
        await tab.drain()
        await tab.close()
        return tab

    tab = async_to_sync(scenario)()
    shown = re.findall(r'data-activity-id="(\d+)"', tab.html)
    newest = int(re.search(r'data-newest-id="(\d+)"', tab.html)[1])
    offered = {a["id"] for a in tab.activities() if a["id"] > newest and str(a["id"]) not in shown}
    fresh = tab.get("/feed/")
    fresh_ids = re.findall(r'data-activity-id="(\d+)"', fresh)
    # feed.js offers "N new — show" for exactly what entered erin's feed after the render (the
    # page groups consecutive items about one ticket, so compare with the timeline itself) ...
    in_feed = set(TimelineEntry.objects.filter(user=erin, activity_id__gt=newest).values_list("activity_id", flat=True))
    assert offered == in_feed and len(offered) == 2
    assert set(fresh_ids) - set(shown), "the fresh page shows something new"
    # ... and "show" fetches the list, which is the fresh page's list.
    items_url = re.search(r'data-items-url="([^"]+)"', tab.html)[1].replace("&amp;", "&")
    assert re.findall(r'data-activity-id="(\d+)"', tab.get(items_url, htmx=True)) == fresh_ids


def test_question_page_answers_and_votes_built_live_equal_a_fresh_load(alice, bob, erin):
    community = communities.community_create(actor=erin, name="Excel wizards", slug="excel")
    for person in (alice, bob):
        communities.community_join(actor=person, community=community)
    question = communities.question_ask(actor=alice, community=community, title="VLOOKUP across sheets?")
    first = communities.answer_post(actor=bob, question=question, body="Use INDEX and MATCH")
    path = f"/questions/{question.pk}/"

    async def scenario():
        tab = await sync_to_async(Tab)(alice, path)
        second = await sync_to_async(communities.answer_post)(actor=erin, question=question, body="Or XLOOKUP")
        await tab.open()
        await sync_to_async(communities.answer_vote)(actor=bob, answer=second, value=1)
        await sync_to_async(communities.answer_accept)(actor=alice, answer=first)
        await tab.until(lambda f: f["type"] == "event" and f["event"].get("kind") == "answers")
        await tab.drain()
        await tab.close()
        return tab

    tab = async_to_sync(scenario)()
    stream = f"question:{question.pk}"
    # question.js: the new answer arrives as an activity (a reload is offered), votes and the
    # acceptance as hints (and once after the resume): the answers list is fetched again.
    assert any(about(a, stream) and a["actor"]["username"] == "erin" for a in tab.activities())
    assert any(e.get("kind") == "answers" for e in tab.events())
    built = tab.get(f"/questions/{question.pk}/answers/", htmx=True)
    fresh = tab.get(path)
    order = re.compile(r'id="answers"[^>]*data-accepted="([^"]*)" data-order="([^"]*)"')
    assert order.search(built).groups() == order.search(fresh).groups()
    assert order.search(fresh)[1] == str(first.pk)


def test_leaderboard_and_queue_built_live_equal_a_fresh_load(alice, bob, make_user, public_ticket):
    from accounts.models import Role

    carol = make_user("carol", role=Role.MANAGER, team=bob.team)
    ticket = public_ticket

    async def scenario():
        board = await sync_to_async(Tab)(alice, "/leaderboard/?period=week")
        queue = await sync_to_async(Tab)(carol, "/queue/")
        await sync_to_async(tickets.ticket_update)(actor=bob, ticket=ticket, status="in_progress")
        await board.open()
        await queue.open()
        await sync_to_async(tickets.ticket_update)(actor=bob, ticket=ticket, status="resolved")
        fresh_ticket = await sync_to_async(tickets.ticket_create)(actor=alice, kind="request", title="New laptop")
        await queue.until(lambda f: f["type"] == "activity" and about(f["activity"], f"ticket:{fresh_ticket.pk}"))
        for tab in (board, queue):
            await tab.drain()
            await tab.close()
        return board, queue

    board, queue = async_to_sync(scenario)()
    # leaderboard.js refetches on a hint or after a resume; queue.js on any ticket activity.
    assert any(f["type"] == "resumed" for f in board.frames)
    built = board.get("/leaderboard/board/?period=week", htmx=True)
    assert element(built, "board-content")[0] == element(board.get("/leaderboard/?period=week"), "board-content")[0]
    assert any((a.get("object") or {}).get("type") == "ticket" for a in queue.activities())
    table_url = re.search(r'data-table-url="([^"]+)"', queue.html)[1].replace("&amp;", "&")
    rows = re.compile(r'data-ticket-id="(\d+)"')
    assert rows.findall(queue.get(table_url, htmx=True)) == rows.findall(queue.get("/queue/"))
    assert str(fresh_ticket_id(queue)) in rows.findall(queue.get("/queue/"))


def fresh_ticket_id(tab: Tab) -> int:
    from tickets.models import Ticket

    return Ticket.objects.get(title="New laptop").pk
