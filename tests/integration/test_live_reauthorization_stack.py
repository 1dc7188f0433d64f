"""Open sockets lose what their person loses, on the real stack: uvicorn processes, the Redis
channel layer and PostgreSQL. Changes are made in this process (or over HTTP on another server
process), so every close and every dropped stream crosses the channel layer between processes."""
import json
import time
from contextlib import contextmanager
import urllib.error
import urllib.request

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from accounts import services as accounts
from accounts.models import Role, User
from communities import services as communities
from feeds import selectors
from feeds import services as feeds
from tests.support import processes
from tickets import services as tickets

pytestmark = pytest.mark.integration
WAIT = 15  # generous: the machine is shared


def new_session(user) -> str:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session["_auth_user_backend"] = "accounts.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def ws_url(base, ticket=None):
    url = base.replace("http://", "ws://") + "/ws/live/"
    return f"{url}?ticket={ticket}" if ticket else url


@contextmanager
def open_by_cookie(base, session_key):
    with connect(ws_url(base), origin=base, open_timeout=WAIT, additional_headers={"Cookie": f"sessionid={session_key}"}) as ws:
        assert json.loads(ws.recv(timeout=WAIT))["type"] == "welcome"
        yield ws


@contextmanager
def open_by_ticket(base, user):
    with connect(ws_url(base, feeds.live_ticket_issue(user=user)), open_timeout=WAIT) as ws:
        assert json.loads(ws.recv(timeout=WAIT))["type"] == "welcome"
        yield ws


def subscribe(ws, stream):
    ws.send(json.dumps({"action": "subscribe", "stream": stream}))
    assert json.loads(ws.recv(timeout=WAIT)) == {"type": "subscribed", "stream": stream}


def close_code(ws, timeout=WAIT) -> tuple[int, list[dict]]:
    """Read until the server closes: its close code and the frames before."""
    frames, deadline = [], time.monotonic() + timeout
    try:
        while True:
            frames.append(json.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic()))))
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None, frames
    except TimeoutError:
        raise AssertionError(f"the socket stayed open; frames: {frames}") from None


def frames_for(ws, seconds) -> list[dict]:
    frames, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            frames.append(json.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic()))))
        except TimeoutError:
            break
    return frames


def frames_until(ws, predicate, timeout=WAIT) -> list[dict]:
    frames, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            frame = json.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
        except TimeoutError:
            break
        frames.append(frame)
        if predicate(frame):
            return frames
    raise AssertionError(f"no matching frame within {timeout}s; got {frames}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def sign_out_over_http(base, session_key) -> int:
    """What the browser does: load a page (for the CSRF cookie), then POST the sign-out form."""
    opener = urllib.request.build_opener(_NoRedirect)
    page = opener.open(urllib.request.Request(f"{base}/", headers={"Cookie": f"sessionid={session_key}"}), timeout=WAIT)
    csrf = next(
        c.split("=", 1)[1].split(";", 1)[0] for c in page.headers.get_all("Set-Cookie") if c.startswith("csrftoken=")
    )
    request = urllib.request.Request(
        f"{base}/accounts/logout/", method="POST", data=f"csrfmiddlewaretoken={csrf}".encode(),
        headers={"Cookie": f"sessionid={session_key}; csrftoken={csrf}", "Origin": base, "Referer": f"{base}/",
                 "Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        return opener.open(request, timeout=WAIT).status
    except urllib.error.HTTPError as error:
        return error.code


def test_signing_out_on_one_server_closes_that_sessions_socket_on_another_with_4401(alice, stack_env, log_dir, asgi_server):
    other = processes.start_asgi_server(stack_env, log_dir)
    try:
        key = new_session(alice)
        with open_by_cookie(other.extra["base_url"], key) as browser, open_by_ticket(other.extra["base_url"], alice) as api_client:
            assert sign_out_over_http(asgi_server.extra["base_url"], key) == 302
            assert close_code(browser)[0] == 4401
            api_client.send(json.dumps({"action": "ping"}))
            assert json.loads(api_client.recv(timeout=WAIT)) == {"type": "pong"}, "a ticket socket is not tied to the session"
    finally:
        other.stop()


@pytest.mark.parametrize("change, code", [("deactivate", 4401), ("password", 4401), ("role", 4403)])
def test_account_changes_close_open_sockets(alice, bob, dave, asgi_server, change, code):
    base = asgi_server.extra["base_url"]
    ticket = tickets.ticket_create(actor=alice, kind="incident", title="Payroll export fails")
    with open_by_cookie(base, new_session(bob)) as by_cookie, open_by_ticket(base, bob) as by_ticket:
        subscribe(by_ticket, f"ticket:{ticket.pk}")
        if change == "deactivate":
            accounts.user_deactivate(actor=dave, user=bob)
        elif change == "password":
            accounts.user_set_password(user=bob, password="another long passphrase")
        else:
            accounts.user_role_set(actor=dave, user=bob, role=Role.END_USER)
        assert close_code(by_cookie)[0] == code
        assert close_code(by_ticket)[0] == code


def test_a_change_behind_the_services_back_is_caught_on_the_next_frame(alice, stack_env, log_dir):
    server = processes.start_asgi_server({**stack_env, "LIVE_ACCESS_CACHE_SECONDS": "1"}, log_dir)
    try:
        with open_by_ticket(server.extra["base_url"], alice) as ws:
            User.objects.filter(pk=alice.pk).update(is_active=False)
            time.sleep(1.2)
            ws.send(json.dumps({"action": "ping"}))
            code, frames = close_code(ws)
            assert code == 4401 and frames == []
    finally:
        server.stop()


def test_a_ticket_turned_private_drops_its_stream_and_its_news_for_outsiders(alice, erin, bob, asgi_server):
    base = asgi_server.extra["base_url"]
    ticket = tickets.ticket_create(actor=alice, kind="incident", title="Wifi down on floor 3", visibility="public")
    stream = f"ticket:{ticket.pk}"
    with open_by_ticket(base, erin) as outsider, open_by_ticket(base, alice) as requester:
        subscribe(outsider, stream)
        subscribe(requester, stream)
        tickets.ticket_update(actor=bob, ticket=ticket, visibility="private")
        assert json.loads(outsider.recv(timeout=WAIT)) == {"type": "unsubscribed", "stream": stream, "reason": "access_ended"}
        tickets.reply_add(actor=bob, ticket=ticket, body="Replacing the access point tonight")
        frames_until(requester, lambda f: f.get("type") == "activity" and f["activity"]["verb"] == "commented")
        assert not [f for f in frames_for(outsider, 2) if f.get("type") == "activity"]


def _private_community_with(owner, member):
    community = communities.community_create(actor=owner, name="Payroll insiders", slug="payroll", visibility="private")
    invitation = communities.invitation_create(actor=owner, community=community, user=member)
    communities.invitation_decide(actor=member, invitation_id=invitation.pk, accept=True)
    return community


def test_removal_from_a_private_community_drops_its_stream_and_its_posts(make_user, erin, asgi_server):
    owner = make_user("olga")
    community = _private_community_with(owner, erin)
    with open_by_ticket(asgi_server.extra["base_url"], erin) as ws:
        subscribe(ws, "community:payroll")
        communities.member_remove(actor=owner, community=community, user=erin)
        frames = frames_until(ws, lambda f: f.get("type") == "unsubscribed")
        assert frames[-1] == {"type": "unsubscribed", "stream": "community:payroll", "reason": "access_ended"}
        communities.question_ask(actor=owner, community=community, title="Bonus figures inside")
        later = frames_for(ws, 2)
        assert not [f for f in later if f.get("type") == "activity" and "Bonus" in f["activity"]["object"]["title"]]


def test_leaving_a_private_community_drops_its_stream(make_user, erin, asgi_server):
    owner = make_user("olga")
    community = _private_community_with(owner, erin)
    with open_by_ticket(asgi_server.extra["base_url"], erin) as ws:
        subscribe(ws, "community:payroll")
        communities.community_leave(actor=erin, community=community)
        frame = json.loads(ws.recv(timeout=WAIT))
        assert frame == {"type": "unsubscribed", "stream": "community:payroll", "reason": "access_ended"}


def test_a_muted_follower_cannot_resume_a_ticket_that_turned_private(alice, erin, bob, asgi_server):
    ticket = tickets.ticket_create(actor=alice, kind="incident", title="Wifi down on floor 3", visibility="public")
    tickets.ticket_follow(actor=erin, ticket=ticket)
    feeds.mute_set(actor=erin, target_type="ticket", key=str(ticket.pk))
    since = selectors.page_marks(erin)[0]
    tickets.reply_add(actor=bob, ticket=ticket, body="The access point is being replaced")
    tickets.ticket_update(actor=bob, ticket=ticket, visibility="private")
    with open_by_ticket(asgi_server.extra["base_url"], erin) as ws:
        ws.send(json.dumps({"action": "resume", "since": since}))
        frames = frames_until(ws, lambda f: f.get("type") == "resumed")
    assert [f for f in frames if f.get("type") == "activity"] == []


def test_a_browser_origin_must_match_scheme_host_and_port(alice, asgi_server):
    base = asgi_server.extra["base_url"]
    port = asgi_server.extra["port"]
    cookie = {"Cookie": f"sessionid={new_session(alice)}"}
    for origin in (f"http://127.0.0.1:{port + 1}", f"https://127.0.0.1:{port}"):
        with pytest.raises(InvalidStatus) as refused:
            connect(ws_url(base), origin=origin, open_timeout=WAIT, additional_headers=cookie)
        assert refused.value.response.status_code == 403, origin
    with connect(ws_url(base), origin=base, open_timeout=WAIT, additional_headers=cookie) as ws:
        assert json.loads(ws.recv(timeout=WAIT))["type"] == "welcome"
