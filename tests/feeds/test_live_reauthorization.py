"""An open /ws/live/ socket never outlives the access it was opened with (in process, over the
real Redis channel layer): sign-out, deactivation, password and role changes close it; losing a
stream (a ticket turned private, removal from or leaving a private community) drops it with an
`unsubscribed` frame; every relayed frame and every `resume` is decided from access now."""
import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.test import Client

from accounts import services as accounts
from accounts.models import Role, User
from communities import services as communities
from feeds import services as feeds
from feeds import selectors as feed_selectors
from feeds.audience import SIGNED_IN, Audience
from feeds.consumers import origin_allowed
from feeds.models import ActivityAudience
from feeds.services import ObjectRef
from servicedesk.asgi import application
from servicedesk.errors import Forbidden
from tickets import services as tickets
from tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://127.0.0.1:8000")
HOST = (b"host", b"127.0.0.1:8000")
WAIT = 10  # generous: the machine is shared


def run(coro_fn):
    async_to_sync(coro_fn)()


def new_session(user) -> str:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session["_auth_user_backend"] = "accounts.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    return session.session_key


async def open_socket(user, *, session_key: str | None = None, headers=(ORIGIN, HOST)):
    if session_key is not None:
        comm = WebsocketCommunicator(application, "/ws/live/", headers=[*headers, (b"cookie", f"sessionid={session_key}".encode())])
    else:
        ticket = await sync_to_async(feeds.live_ticket_issue)(user=user)
        comm = WebsocketCommunicator(application, f"/ws/live/?ticket={ticket}", headers=[HOST])
    connected, _ = await comm.connect(timeout=WAIT)
    assert connected
    assert (await comm.receive_json_from(timeout=WAIT))["type"] == "welcome"
    return comm


async def subscribe(comm, stream):
    await comm.send_json_to({"action": "subscribe", "stream": stream})
    assert await comm.receive_json_from(timeout=WAIT) == {"type": "subscribed", "stream": stream}


async def closed_with(comm, timeout=WAIT) -> tuple[int, list[dict]]:
    """Read until the server closes the socket: the close code and the frames before it."""
    import json

    frames = []
    while True:
        message = await comm.receive_output(timeout=timeout)
        if message["type"] == "websocket.close":
            return message.get("code"), frames
        frames.append(json.loads(message["text"]))


async def still_open(comm) -> bool:
    await comm.send_json_to({"action": "ping"})
    return (await comm.receive_json_from(timeout=WAIT)) == {"type": "pong"}


async def drain(comm, quiet=2) -> list[dict]:
    """Every frame until the socket has been quiet for `quiet` seconds (the socket stays usable)."""
    frames = []
    while not await comm.receive_nothing(timeout=quiet):
        frames.append(await comm.receive_json_from(timeout=WAIT))
    return frames


async def frames_until(comm, predicate, timeout=WAIT) -> list[dict]:
    frames = []
    while True:
        frame = await comm.receive_json_from(timeout=timeout)
        frames.append(frame)
        if predicate(frame):
            return frames


def test_a_new_password_closes_every_open_socket_of_the_account_with_4401(alice):
    async def scenario():
        by_cookie = await open_socket(alice, session_key=await sync_to_async(new_session)(alice))
        by_ticket = await open_socket(alice)
        await sync_to_async(accounts.user_set_password)(user=alice, password="a whole new secret phrase")
        assert (await closed_with(by_cookie))[0] == 4401
        assert (await closed_with(by_ticket))[0] == 4401

    run(scenario)


def test_deactivation_closes_open_sockets_with_4401_and_only_admins_deactivate(alice, erin, dave):
    with pytest.raises(Forbidden):
        accounts.user_deactivate(actor=erin, user=alice)
    assert User.objects.get(pk=alice.pk).is_active

    async def scenario():
        theirs, bystander = await open_socket(alice), await open_socket(erin)
        await subscribe(theirs, "user:erin")
        await sync_to_async(accounts.user_deactivate)(actor=dave, user=alice)
        assert (await closed_with(theirs))[0] == 4401
        assert await still_open(bystander), "only the deactivated account's sockets close"
        await bystander.disconnect()

    run(scenario)


def test_a_role_change_closes_open_sockets_with_4403_before_any_internal_note_arrives(alice, bob, dave, make_user):
    other_agent = make_user("gina", role=Role.AGENT)
    with pytest.raises(Forbidden):
        accounts.user_role_set(actor=other_agent, user=bob, role=Role.END_USER)
    ticket = tickets.ticket_create(actor=alice, kind="incident", title="Payroll export fails")

    async def scenario():
        comm = await open_socket(bob)
        await subscribe(comm, f"ticket:{ticket.pk}")
        await sync_to_async(accounts.user_role_set)(actor=dave, user=bob, role=Role.END_USER)
        await sync_to_async(tickets.reply_add)(actor=other_agent, ticket=ticket, body="internal: salary data", internal=True)
        code, frames = await closed_with(comm)
        assert code == 4403
        assert not [f for f in frames if f.get("type") == "activity"]

    run(scenario)


def test_signing_out_closes_the_sockets_of_that_session_with_4401(alice):
    key = new_session(alice)

    async def scenario():
        browser = await open_socket(alice, session_key=key)
        api_client = await open_socket(alice)  # a ticket socket is not tied to the browser session
        client = Client()
        client.cookies["sessionid"] = key
        response = await sync_to_async(client.post)("/accounts/logout/")
        assert response.status_code == 302
        assert (await closed_with(browser))[0] == 4401
        assert await still_open(api_client)
        await api_client.disconnect()

    run(scenario)


@pytest.mark.parametrize("change, code", [
    ("deactivated", 4401), ("password", 4401), ("session_deleted", 4401), ("role", 4403),
])
def test_the_per_frame_check_closes_sockets_whose_access_changed_without_any_message(alice, settings, change, code):
    """The safety net: a change made behind the services' back (or a lost message) is noticed on
    the socket's next frame once the cached decision is older than LIVE_ACCESS_CACHE_SECONDS."""
    settings.LIVE_ACCESS_CACHE_SECONDS = 0
    key = new_session(alice)

    async def scenario():
        comm = await open_socket(alice, session_key=key)
        if change == "deactivated":
            await sync_to_async(User.objects.filter(pk=alice.pk).update)(is_active=False)
        elif change == "password":
            await sync_to_async(User.objects.filter(pk=alice.pk).update)(password="md5$x$changed")
        elif change == "session_deleted":
            await sync_to_async(Session.objects.filter(session_key=key).delete)()
        else:
            await sync_to_async(User.objects.filter(pk=alice.pk).update)(role=Role.AGENT)
        await comm.send_json_to({"action": "ping"})
        got, frames = await closed_with(comm)
        assert got == code and frames == []

    run(scenario)


def test_an_account_change_is_also_noticed_when_only_server_frames_flow(alice, settings):
    settings.LIVE_ACCESS_CACHE_SECONDS = 0

    async def scenario():
        comm = await open_socket(alice)
        await sync_to_async(User.objects.filter(pk=alice.pk).update)(is_active=False)
        await sync_to_async(feeds.activity_publish)(
            actor=None, verb="noted", obj=ObjectRef("user", "alice", "Alice"), audience=Audience.of(users=[alice.pk]),
            summary="for alice",
        )
        code, frames = await closed_with(comm)
        assert code == 4401 and frames == []

    run(scenario)


def test_a_ticket_turned_private_drops_the_stream_for_those_who_may_no_longer_see_it(alice, erin, bob):
    ticket = tickets.ticket_create(actor=alice, kind="incident", title="Wifi down on floor 3", visibility="public")
    stream = f"ticket:{ticket.pk}"

    async def scenario():
        watcher, requester = await open_socket(erin), await open_socket(alice)
        await subscribe(watcher, stream)
        await subscribe(requester, stream)
        await sync_to_async(tickets.ticket_update)(actor=bob, ticket=ticket, visibility="private")
        frame = await watcher.receive_json_from(timeout=WAIT)
        assert frame == {"type": "unsubscribed", "stream": stream, "reason": "access_ended"}
        reply = await sync_to_async(tickets.reply_add)(actor=bob, ticket=ticket, body="Fixed the access point")
        got = await frames_until(requester, lambda f: f.get("type") == "activity" and f["activity"]["verb"] == "commented")
        assert all(f.get("type") != "unsubscribed" for f in got), "the requester keeps the stream"
        assert await watcher.receive_nothing(timeout=1)
        assert reply is not None
        for comm in (watcher, requester):
            await comm.disconnect()

    run(scenario)


def test_relayed_activities_are_checked_against_access_now_not_the_audience_they_carry(alice, erin, settings):
    """An activity written for everyone while the ticket was public, relayed after it turned
    private, does not reach someone who may no longer see the ticket."""
    settings.LIVE_ACCESS_CACHE_SECONDS = 0
    ticket = tickets.ticket_create(actor=alice, kind="incident", title="Wifi down on floor 3", visibility="public")
    stream = f"ticket:{ticket.pk}"

    async def scenario():
        comm = await open_socket(erin)
        await subscribe(comm, stream)
        await sync_to_async(Ticket.objects.filter(pk=ticket.pk).update)(visibility="private")  # no message sent
        await sync_to_async(feeds.activity_publish)(
            actor=alice, verb="commented", obj=ObjectRef("ticket", str(ticket.pk), "Wifi"),
            audience=Audience.of(users=[erin.pk], groups=[SIGNED_IN]), summary="stale audience",
        )
        frames = await drain(comm)
        assert not [f for f in frames if f.get("type") == "activity"]
        assert {"type": "unsubscribed", "stream": stream, "reason": "access_ended"} in frames
        await comm.disconnect()

    run(scenario)


def test_removal_from_a_private_community_drops_its_streams_and_its_posts(make_user, erin):
    owner = make_user("olga")
    community = communities.community_create(actor=owner, name="Payroll insiders", slug="payroll", visibility="private")
    invitation = communities.invitation_create(actor=owner, community=community, user=erin)
    communities.invitation_decide(actor=erin, invitation_id=invitation.pk, accept=True)
    question = communities.question_ask(actor=owner, community=community, title="Where is the bonus file?")

    async def scenario():
        comm = await open_socket(erin)
        await subscribe(comm, "community:payroll")
        await subscribe(comm, f"question:{question.pk}")
        await sync_to_async(communities.member_remove)(actor=owner, community=community, user=erin, reason="left the team")
        frames = await frames_until(comm, lambda f: f.get("type") == "notification")
        lost = sorted(f["stream"] for f in frames if f.get("type") == "unsubscribed")
        assert lost == sorted(["community:payroll", f"question:{question.pk}"])
        assert all(f.get("reason") == "access_ended" for f in frames if f.get("type") == "unsubscribed")
        await sync_to_async(communities.question_ask)(actor=owner, community=community, title="Bonus figures inside")
        extra = await drain(comm)
        assert not [f for f in extra if f.get("type") == "activity" and "Bonus figures" in f["activity"]["object"]["title"]]
        await comm.disconnect()

    run(scenario)


def test_leaving_a_private_community_drops_its_stream(make_user, erin):
    owner = make_user("olga")
    community = communities.community_create(actor=owner, name="Payroll insiders", slug="payroll", visibility="private")
    invitation = communities.invitation_create(actor=owner, community=community, user=erin)
    communities.invitation_decide(actor=erin, invitation_id=invitation.pk, accept=True)

    async def scenario():
        comm = await open_socket(erin)
        await subscribe(comm, "community:payroll")
        await sync_to_async(communities.community_leave)(actor=erin, community=community)
        assert await comm.receive_json_from(timeout=WAIT) == {
            "type": "unsubscribed", "stream": "community:payroll", "reason": "access_ended",
        }
        await comm.disconnect()

    run(scenario)


def test_resume_decides_from_access_now_even_when_the_recheck_message_was_lost(alice, erin, bob):
    ticket = tickets.ticket_create(actor=alice, kind="incident", title="Wifi down on floor 3", visibility="public")
    stream = f"ticket:{ticket.pk}"

    async def scenario():
        comm = await open_socket(erin)
        welcome_since = await sync_to_async(lambda: feed_selectors.page_marks(erin)[0])()
        await subscribe(comm, stream)
        await sync_to_async(tickets.reply_add)(actor=bob, ticket=ticket, body="Public answer while public")
        await frames_until(comm, lambda f: f.get("type") == "activity")
        await sync_to_async(Ticket.objects.filter(pk=ticket.pk).update)(visibility="private")  # no message sent
        await comm.send_json_to({"action": "resume", "since": welcome_since})
        frames = await frames_until(comm, lambda f: f.get("type") == "resumed")
        assert frames[0] == {"type": "unsubscribed", "stream": stream, "reason": "access_ended"}
        assert frames[-1]["activities"] == 0
        await comm.disconnect()

    run(scenario)


def test_a_muted_follower_cannot_resume_a_ticket_that_turned_private(alice, erin, bob):
    ticket = tickets.ticket_create(actor=alice, kind="incident", title="Wifi down on floor 3", visibility="public")
    tickets.ticket_follow(actor=erin, ticket=ticket)
    feeds.mute_set(actor=erin, target_type="ticket", key=str(ticket.pk))
    since = feed_selectors.page_marks(erin)[0]
    tickets.reply_add(actor=bob, ticket=ticket, body="The access point is being replaced")
    assert ActivityAudience.objects.filter(user=erin, activity_id__gt=since).exists()
    tickets.ticket_update(actor=bob, ticket=ticket, visibility="private")
    assert not ActivityAudience.objects.filter(user=erin, activity_id__gt=since).exists(), "no leftover per-user rows"

    async def scenario():
        comm = await open_socket(erin)
        await comm.send_json_to({"action": "resume", "since": since})
        frames = await frames_until(comm, lambda f: f.get("type") == "resumed")
        assert [f for f in frames if f.get("type") == "activity"] == []
        await comm.disconnect()

    run(scenario)


def test_origin_must_match_scheme_host_and_port(alice, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://desk.example.com"]
    scope = {"type": "websocket", "scheme": "ws", "headers": [HOST]}
    assert origin_allowed("http://127.0.0.1:8000", scope)
    assert not origin_allowed("http://127.0.0.1:9000", scope), "another port is another origin"
    assert not origin_allowed("https://127.0.0.1:8000", scope), "another scheme is another origin"
    assert not origin_allowed("http://127.0.0.1", scope)
    assert origin_allowed("https://desk.example.com", scope)
    assert origin_allowed("https://desk.example.com:443", scope)
    assert not origin_allowed("https://desk.example.com:8443", scope)
    assert not origin_allowed("http://desk.example.com", scope)
    assert not origin_allowed("http://evil.example:8000", {**scope, "headers": [(b"host", b"evil.example:8000")]}), \
        "a Host outside ALLOWED_HOSTS is no origin of ours"

    async def scenario():
        cookie = (b"cookie", f"sessionid={await sync_to_async(new_session)(alice)}".encode())
        for origin in (b"http://127.0.0.1:9000", b"https://127.0.0.1:8000"):
            comm = WebsocketCommunicator(application, "/ws/live/", headers=[(b"origin", origin), HOST, cookie])
            connected, _ = await comm.connect(timeout=WAIT)
            assert not connected, origin
            await comm.disconnect()
        comm = WebsocketCommunicator(application, "/ws/live/", headers=[ORIGIN, HOST, cookie])
        assert (await comm.connect(timeout=WAIT))[0]
        await comm.disconnect()

    run(scenario)


def test_a_role_changed_in_the_admin_site_closes_open_sockets_too(bob, dave):
    client = Client()
    client.force_login(dave)
    form = {
        "username": "bob", "first_name": "", "last_name": "", "email": "bob@example.com", "is_active": "on",
        "role": Role.END_USER, "team": str(bob.team_id), "display_name": "Bob Okafor", "title": "", "location": "",
        "expertise_tags": "[]", "date_joined_0": bob.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": bob.date_joined.strftime("%H:%M:%S"), "last_login_0": "", "last_login_1": "",
    }

    async def scenario():
        comm = await open_socket(bob)
        response = await sync_to_async(client.post)(f"/admin/accounts/user/{bob.pk}/change/", form)
        assert response.status_code == 302, response.content[:2000]
        assert (await closed_with(comm))[0] == 4403

    run(scenario)
    assert User.objects.get(pk=bob.pk).role == Role.END_USER


@pytest.mark.parametrize("by_cookie", [False, True], ids=["ticket", "session cookie"])
def test_checks_falling_due_together_are_made_in_one_trip_with_one_account_query(alice, make_user, settings, monkeypatch,
                                                                                   by_cookie):
    """Six followers' sockets hear one activity with every cached verdict expired: each is still
    checked afresh (account, groups, session and ticket access), but together, not one database
    trip per socket, and with the same few queries whatever the number of sockets."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from feeds import consumers

    settings.LIVE_ACCESS_CACHE_SECONDS = 0
    people = [make_user() for _ in range(6)]
    ticket = tickets.ticket_create(actor=alice, kind="incident", title="VPN down", visibility="public")
    stream = f"ticket:{ticket.pk}"
    trips: list[list[tuple[int, bool, tuple]]] = []
    queries: list[int] = []
    account_reads: list[int] = []
    real_run, real_in_bulk = consumers._run_checks, User.objects.in_bulk

    def recording_run(items):
        trips.append([(c.user.pk, account, tuple(names)) for c, account, names, _ in items])
        with CaptureQueriesContext(connection) as captured:
            out = real_run(items)
        queries.append(len(captured.captured_queries))
        return out

    def counting_in_bulk(*args, **kwargs):
        account_reads.append(1)
        return real_in_bulk(*args, **kwargs)

    real_by_id = consumers.account_by_id

    def counting_by_id(*args, **kwargs):  # a trip that checks a single socket
        account_reads.append(1)
        return real_by_id(*args, **kwargs)

    sessions = {person.pk: new_session(person) for person in people} if by_cookie else {}

    async def scenario():
        socks = [await open_socket(person, session_key=sessions.get(person.pk)) for person in people]
        for comm in socks:
            await subscribe(comm, stream)
        monkeypatch.setattr(consumers, "_run_checks", recording_run)
        monkeypatch.setattr(User.objects, "in_bulk", counting_in_bulk)
        monkeypatch.setattr(consumers, "account_by_id", counting_by_id)
        await sync_to_async(feeds.activity_publish)(
            actor=alice, verb="commented", obj=ObjectRef("ticket", str(ticket.pk), "VPN down"),
            audience=Audience.of(groups=[SIGNED_IN]), summary="failover in progress",
        )
        for comm in socks:
            frame = await comm.receive_json_from(timeout=WAIT)
            assert frame["type"] == "activity" and frame["activity"]["summary"] == "failover in progress"
        for comm in socks:
            await comm.disconnect()

    run(scenario)
    checked = [item for trip in trips for item in trip]
    assert sorted(pk for pk, _, _ in checked) == sorted(p.pk for p in people)  # every socket, afresh
    assert all(account and names == (stream,) for _, account, names in checked)
    assert len(trips) < len(people) and len(account_reads) == len(trips)
    # The person, their groups (community memberships), the sessions and the ticket: at most four
    # queries a trip, however many sockets it checks.
    assert max(queries) <= 4, queries


def test_a_repeated_activity_is_dropped_before_any_check(alice, erin, settings, monkeypatch):
    """The stream's message and the personal push carry the same activity: the second costs nothing."""
    from feeds import consumers

    settings.LIVE_ACCESS_CACHE_SECONDS = 0
    ticket = tickets.ticket_create(actor=alice, kind="incident", title="VPN down", visibility="public")
    stream = f"ticket:{ticket.pk}"
    trips = []
    real_run = consumers._run_checks

    async def scenario():
        comm = await open_socket(erin)
        await subscribe(comm, stream)
        monkeypatch.setattr(consumers, "_run_checks", lambda items: trips.append(len(items)) or real_run(items))
        # Addressed to erin and relayed on the stream she subscribes to: two messages, one frame.
        await sync_to_async(feeds.activity_publish)(
            actor=alice, verb="commented", obj=ObjectRef("ticket", str(ticket.pk), "VPN down"),
            audience=Audience.of(users=[erin.pk], groups=[SIGNED_IN]), summary="one frame",
        )
        frames = await drain(comm)
        await comm.disconnect()
        return frames

    frames = async_to_sync(scenario)()
    assert [f["activity"]["summary"] for f in frames if f["type"] == "activity"] == ["one frame"]
    assert trips == [1]  # the first message was checked; the repeat never reached a check


def test_checks_made_together_read_the_ticket_once_and_still_decide_for_each_person(alice, erin, bob, monkeypatch):
    """The sockets one message woke share the ticket's read, never its verdict: a private ticket
    stays refused to those who may not see it, and a check outside a batch reads afresh."""
    from feeds import streams as feed_streams
    from tickets import streams as ticket_streams

    ticket = tickets.ticket_create(actor=alice, kind="incident", title="Payroll export", visibility="private")
    stream = f"ticket:{ticket.pk}"
    reads = []
    real = ticket_streams._ticket_access.run
    monkeypatch.setattr(ticket_streams._ticket_access, "run", lambda **kw: reads.append(kw) or real(**kw))
    with feed_streams.shared_reads():
        verdicts = [feed_streams.may_subscribe(person, stream) for person in (alice, erin, bob, erin)]
    assert verdicts == [True, False, True, False] and len(reads) == 1
    tickets.ticket_update(actor=bob, ticket=ticket, visibility="public")
    assert feed_streams.may_subscribe(erin, stream) is True and len(reads) == 2


def test_groups_read_together_are_each_persons_own(make_user, erin, alice):
    from feeds.audience import user_groups, user_groups_many

    owner = make_user("olga")
    community = communities.community_create(actor=owner, name="Payroll insiders", slug="payroll", visibility="private")
    invitation = communities.invitation_create(actor=owner, community=community, user=erin)
    communities.invitation_decide(actor=erin, invitation_id=invitation.pk, accept=True)
    people = [owner, erin, alice]
    together = user_groups_many(people)
    assert together == {person.pk: user_groups(person) for person in people}
    assert "community:payroll" in together[erin.pk] and "community:payroll" not in together[alice.pk]
