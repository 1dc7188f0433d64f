"""Slack and Teams open tickets only through signed, fresh, first-time requests."""
import base64
import json
import time
from datetime import datetime, timezone
from urllib.parse import urlencode

import pytest
from django.test import Client

from intake import chat, services
from intake.models import ChatConnection
from tickets.models import Ticket

SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TEAMS_SECRET = base64.b64encode(b"a teams security token").decode()


@pytest.fixture
def slack(dave, alice, bob):
    return services.chat_connection_create(actor=dave, name="Slack", kind="slack", secret=SLACK_SECRET,
                                           people={"U0ALICE": "alice"}, team=bob.team)


@pytest.fixture
def teams(dave, alice):
    return services.chat_connection_create(actor=dave, name="Teams", kind="teams", secret=TEAMS_SECRET,
                                           people={"aad-alice": "alice"})


def slack_post(path, body: bytes, *, ts=None, secret=SLACK_SECRET, sign=True, content_type="application/x-www-form-urlencoded"):
    ts = int(time.time()) if ts is None else ts
    headers = {"HTTP_X_SLACK_REQUEST_TIMESTAMP": str(ts)}
    if sign:
        headers["HTTP_X_SLACK_SIGNATURE"] = chat.slack_sign(secret, body, ts)
    return Client().post(path, body, content_type=content_type, **headers)


def command(text="VPN drops every few minutes", user="U0ALICE"):
    return urlencode({"command": "/ticket", "text": text, "user_id": user, "channel_id": "C01"}).encode()


def test_a_signed_slash_command_logs_a_ticket_the_person_follows(slack, alice):
    response = slack_post(f"/intake/slack/{slack.slug}/commands/", command())
    assert response.status_code == 200
    ticket = Ticket.objects.get()
    assert (ticket.requester, ticket.channel, ticket.title, ticket.team) == (alice, "slack", "VPN drops every few minutes", slack.team)
    assert ticket.number in response.json()["text"]
    assert alice.follows.filter(target_type="ticket", target_key=str(ticket.pk)).exists()


@pytest.mark.parametrize("case", ["unsigned", "wrong secret", "stale"])
def test_unsigned_forged_or_stale_slack_requests_are_401_and_change_nothing(slack, case):
    kwargs = {"unsigned": {"sign": False}, "wrong secret": {"secret": "not-the-secret"},
              "stale": {"ts": int(time.time()) - 600}}[case]
    response = slack_post(f"/intake/slack/{slack.slug}/commands/", command(), **kwargs)
    assert response.status_code == 401 and not Ticket.objects.exists()


def test_a_replayed_slack_request_is_403_and_logs_nothing_more(slack):
    body, ts = command(), int(time.time())
    signature = chat.slack_sign(SLACK_SECRET, body, ts)
    first = Client().post(f"/intake/slack/{slack.slug}/commands/", body, content_type="application/x-www-form-urlencoded",
                          HTTP_X_SLACK_REQUEST_TIMESTAMP=str(ts), HTTP_X_SLACK_SIGNATURE=signature)
    again = Client().post(f"/intake/slack/{slack.slug}/commands/", body, content_type="application/x-www-form-urlencoded",
                          HTTP_X_SLACK_REQUEST_TIMESTAMP=str(ts), HTTP_X_SLACK_SIGNATURE=signature)
    assert (first.status_code, again.status_code) == (200, 403) and Ticket.objects.count() == 1


def test_an_unlinked_chat_user_logs_nothing(slack):
    response = slack_post(f"/intake/slack/{slack.slug}/commands/", command(user="U0STRANGER"))
    assert response.status_code == 200 and "not linked" in response.json()["text"] and not Ticket.objects.exists()


def test_slack_events_verify_the_url_and_a_retried_event_is_logged_once(slack):
    path = f"/intake/slack/{slack.slug}/events/"
    challenge = slack_post(path, json.dumps({"type": "url_verification", "challenge": "abc"}).encode(), content_type="application/json")
    assert challenge.json() == {"challenge": "abc"}
    event = json.dumps({"type": "event_callback", "event_id": "Ev01", "event": {
        "type": "app_mention", "user": "U0ALICE", "text": "<@UDESK> printer on floor 2 is jammed", "channel": "C01", "ts": "1.2"}}).encode()
    first = slack_post(path, event, content_type="application/json")
    retry = slack_post(path, event, ts=int(time.time()) + 1, content_type="application/json")
    assert first.status_code == retry.status_code == 200
    assert list(Ticket.objects.values_list("title", flat=True)) == ["printer on floor 2 is jammed"]


def teams_body(text="<at>Desk</at> Outlook keeps asking for my password", activity_id="act-1", when=None):
    when = when or datetime.now(timezone.utc)
    return json.dumps({"type": "message", "id": activity_id, "timestamp": when.isoformat().replace("+00:00", "Z"),
                       "text": text, "from": {"id": "29:x", "aadObjectId": "aad-alice"}, "conversation": {"id": "19:chan"}}).encode()


def teams_post(connection, body, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    return Client().post(f"/intake/teams/{connection.slug}/", body, content_type="application/json", **headers)


def test_a_signed_teams_message_logs_a_ticket(teams, alice):
    body = teams_body()
    response = teams_post(teams, body, chat.teams_sign(TEAMS_SECRET, body))
    assert response.status_code == 200 and response.json()["type"] == "message"
    ticket = Ticket.objects.get()
    assert (ticket.requester, ticket.channel, ticket.title) == (alice, "teams", "Outlook keeps asking for my password")


def test_unsigned_forged_stale_or_replayed_teams_requests_change_nothing(teams):
    body = teams_body()
    assert teams_post(teams, body, None).status_code == 401
    assert teams_post(teams, body, "HMAC " + base64.b64encode(b"x" * 32).decode()).status_code == 401
    stale = teams_body(when=datetime(2020, 1, 1, tzinfo=timezone.utc))
    assert teams_post(teams, stale, chat.teams_sign(TEAMS_SECRET, stale)).status_code == 401
    assert not Ticket.objects.exists()
    signed = chat.teams_sign(TEAMS_SECRET, body)
    assert teams_post(teams, body, signed).status_code == 200
    assert teams_post(teams, body, signed).status_code == 403
    assert Ticket.objects.count() == 1


def test_only_admins_create_chat_connections(alice):
    from servicedesk.errors import Forbidden

    with pytest.raises(Forbidden):
        services.chat_connection_create(actor=alice, name="Mine", kind="slack", secret="s", people={})
    assert not ChatConnection.objects.exists()


def test_resolving_a_chat_ticket_answers_in_its_thread_through_the_channel_and_its_policies(
        dave, alice, bob, monkeypatch, django_capture_on_commit_callbacks):
    from policies import senders
    from policies import services as policies
    from policies.models import OutboundPost

    relay = policies.channel_create(actor=dave, name="Slack replies", kind="slack", audience="internal",
                                    config={"url": "https://hooks.slack.example/services/T/B/X"})
    policies.policy_create(actor=dave, channel=relay, name="Ticket updates", allowed_events=["ticket_status_changed"])
    connection = services.chat_connection_create(actor=dave, name="Slack", kind="slack", secret=SLACK_SECRET,
                                                 people={"U0ALICE": "alice"}, outbound_channel=relay.slug)
    sent = []
    monkeypatch.setattr(senders, "_post_json", lambda url, payload, headers=None: sent.append(payload) or senders.Result(senders.SENT, http_status=200))
    event = json.dumps({"type": "event_callback", "event_id": "Ev77", "event": {
        "type": "app_mention", "user": "U0ALICE", "text": "wifi down in room 4", "channel": "C09", "ts": "1700.01"}}).encode()
    assert slack_post(f"/intake/slack/{connection.slug}/events/", event, content_type="application/json").status_code == 200
    ticket = Ticket.objects.get()

    from tickets import services as tickets

    with django_capture_on_commit_callbacks(execute=True):
        tickets.ticket_update(actor=bob, ticket=ticket, status="resolved")
    post = OutboundPost.objects.get(ticket=ticket)
    assert (post.channel, post.event, post.recipient) == (relay, "ticket_status_changed", "C09/1700.01")
    assert sent == [{"text": post.text, "thread_ts": "1700.01"}]


def test_chat_thread_updates_still_pass_the_channels_policies(dave, alice, bob):
    from policies import services as policies
    from policies.models import OutboundPost
    from tickets import services as tickets

    relay = policies.channel_create(actor=dave, name="Slack replies", kind="slack", audience="internal",
                                    config={"url": "https://hooks.slack.example/services/T/B/X"})
    # No policy names ticket resolutions: the engine blocks the post.
    connection = services.chat_connection_create(actor=dave, name="Slack", kind="slack", secret=SLACK_SECRET,
                                                 people={"U0ALICE": "alice"}, outbound_channel=relay.slug)
    slack_post(f"/intake/slack/{connection.slug}/commands/", command())
    tickets.ticket_update(actor=bob, ticket=Ticket.objects.get(), status="resolved")
    assert OutboundPost.objects.get().status == "blocked"


@pytest.mark.parametrize("body", [b"not json", b"[]", b"5", b'{"type": "event_callback", "event": []}',
                                  b'{"type": "event_callback", "event": {"type": "message", "text": 5, "user": []}}',
                                  b"\xff\xfe", b'{"type": "url_verification", "challenge": {"a": 1}}'])
def test_signed_but_malformed_slack_events_never_answer_500(slack, body):
    response = slack_post(f"/intake/slack/{slack.slug}/events/", body, content_type="application/json")
    assert response.status_code in (200, 400) and not Ticket.objects.exists()


@pytest.mark.parametrize("body", [b"text=%ff%fe&user_id=U0ALICE", b"\x00\x01", b"text=&user_id=U0ALICE", b"user_id=U0ALICE&text=" + b"x" * 30000])
def test_signed_but_odd_slash_commands_never_answer_500(slack, body):
    response = slack_post(f"/intake/slack/{slack.slug}/commands/", body)
    assert response.status_code == 200 and "text" in response.json()


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"timestamp": 5}', b'{"timestamp": "2026-13-45T00:00:00Z"}'])
def test_malformed_teams_requests_never_answer_500(teams, body):
    response = teams_post(teams, body, chat.teams_sign(TEAMS_SECRET, body))
    assert response.status_code in (400, 401) and not Ticket.objects.exists()


def test_chat_endpoints_take_only_posts_and_unknown_connections_are_404(slack):
    assert Client().get(f"/intake/slack/{slack.slug}/commands/").status_code == 405
    assert slack_post("/intake/slack/nope/commands/", command()).status_code == 404


def test_signature_headers_with_odd_characters_are_401_not_500(slack, teams):
    body = command()
    odd = Client().post(f"/intake/slack/{slack.slug}/commands/", body, content_type="application/x-www-form-urlencoded",
                        HTTP_X_SLACK_REQUEST_TIMESTAMP=str(int(time.time())), HTTP_X_SLACK_SIGNATURE="v0=é✓")
    assert odd.status_code == 401
    assert teams_post(teams, teams_body(), "HMAC é✓").status_code == 401
    assert not Ticket.objects.exists()


@pytest.fixture
def relayed(dave, alice, monkeypatch):
    """A Slack connection whose updates go back through a Slack outbound channel that allows them;
    what the channel would send is captured instead of leaving the machine."""
    from policies import senders
    from policies import services as policies

    relay = policies.channel_create(actor=dave, name="Slack replies", kind="slack", audience="internal",
                                    config={"url": "https://hooks.slack.example/services/T/B/X"})
    policies.policy_create(actor=dave, channel=relay, name="Ticket updates",
                           allowed_events=["ticket_replied", "ticket_status_changed", "ticket_closed"])
    connection = services.chat_connection_create(actor=dave, name="Slack", kind="slack", secret=SLACK_SECRET,
                                                 people={"U0ALICE": "alice"}, outbound_channel=relay.slug)
    sent = []
    monkeypatch.setattr(senders, "_post_json", lambda url, payload, headers=None: sent.append(payload) or senders.Result(senders.SENT, http_status=200))
    event = json.dumps({"type": "event_callback", "event_id": "Ev88", "event": {
        "type": "app_mention", "user": "U0ALICE", "text": "printer jams on floor 3", "channel": "C07", "ts": "1800.5"}}).encode()
    assert slack_post(f"/intake/slack/{connection.slug}/events/", event, content_type="application/json").status_code == 200
    return connection, Ticket.objects.get(), sent


def test_public_replies_and_status_changes_go_back_to_the_thread_but_internal_notes_never(
        relayed, bob, django_capture_on_commit_callbacks):
    from policies.models import OutboundPost
    from tickets import services as tickets

    connection, ticket, sent = relayed
    with django_capture_on_commit_callbacks(execute=True):
        tickets.comment_add(actor=bob, ticket=ticket, body="Internal: the tray sensor again", internal=True)
        tickets.comment_add(actor=bob, ticket=ticket, body="Try opening tray 2 and closing it firmly.")
        tickets.ticket_update(actor=bob, ticket=ticket, status="pending")
        tickets.ticket_update(actor=bob, ticket=ticket, status="resolved")
    posts = list(OutboundPost.objects.filter(ticket=ticket).order_by("id"))
    assert [(p.event, p.recipient, p.status) for p in posts] == [
        ("ticket_replied", "C07/1800.5", "sent"), ("ticket_status_changed", "C07/1800.5", "sent"),
        ("ticket_status_changed", "C07/1800.5", "sent")]
    assert "new reply" in posts[0].text and "pending" in posts[1].text.lower() and "resolved" in posts[2].text
    assert not any("tray sensor" in p["text"] for p in sent)
    assert [p["thread_ts"] for p in sent] == ["1800.5"] * 3


def test_the_requesters_own_reply_is_not_echoed_to_the_thread(relayed, alice):
    from policies.models import OutboundPost
    from tickets import services as tickets

    _, ticket, _ = relayed
    tickets.comment_add(actor=alice, ticket=ticket, body="It jammed again just now.")
    assert not OutboundPost.objects.exists()


def test_nothing_goes_back_once_the_ticket_is_private(relayed, bob):
    from policies.models import OutboundPost
    from tickets import services as tickets

    _, ticket, _ = relayed
    tickets.ticket_update(actor=bob, ticket=ticket, visibility="public")
    tickets.comment_add(actor=bob, ticket=ticket, body="Looking at it.")
    assert OutboundPost.objects.count() == 1
    tickets.ticket_update(actor=bob, ticket=ticket, visibility="private")
    tickets.comment_add(actor=bob, ticket=ticket, body="The fix involves the finance printer's config.")
    tickets.ticket_update(actor=bob, ticket=ticket, status="resolved")
    assert OutboundPost.objects.count() == 1


@pytest.mark.parametrize("change", ["unlinked", "deactivated", "connection off"])
def test_nothing_goes_back_once_the_person_loses_access(relayed, bob, dave, alice, change):
    from accounts.models import User
    from policies.models import OutboundPost
    from tickets import services as tickets

    connection, ticket, _ = relayed
    if change == "unlinked":
        services.chat_connection_update(actor=dave, connection=connection, name=connection.name, people={},
                                        outbound_channel=connection.outbound_channel)
    elif change == "deactivated":
        User.objects.filter(pk=alice.pk).update(is_active=False)
    else:
        services.channel_set_active(actor=dave, channel=connection, active=False)
    tickets.comment_add(actor=bob, ticket=Ticket.objects.get(pk=ticket.pk), body="Fixed the tray.")
    assert not OutboundPost.objects.exists()


def test_a_reply_is_sent_back_once_per_thread_however_often_the_event_arrived(relayed, bob):
    from policies.models import OutboundPost
    from tickets import services as tickets

    _, ticket, _ = relayed
    tickets.comment_add(actor=bob, ticket=ticket, body="On my way.")
    assert OutboundPost.objects.filter(ticket=ticket).count() == 1
