"""Delivery against a real local HTTP target, in-process: states, retries, ambiguity, re-checks,
and the posts the product makes itself when tickets open, resolve and close."""
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from policies import services
from policies.models import AuditEntry, DeliveryAttempt, ExternalChannelPreference, OutboundPost
from tests.support.webhook_target import Target

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quick(settings):
    settings.POLICIES_HTTP_TIMEOUT = 0.5
    settings.POLICIES_CONNECT_TIMEOUT = 0.5
    settings.POLICIES_MAX_ATTEMPTS = 3
    settings.POLICIES_RETRY_BASE_SECONDS = 0


def hooked(make_channel, make_policy, url, **policy):
    channel = make_channel(name="Ops webhook", kind="webhook", audience="internal", config={"url": url, "secret": "s3cret-signing"})
    make_policy(channel, **policy)
    return channel


@pytest.mark.usefixtures("allow_loopback")
def test_an_allowed_post_arrives_once_signed_and_is_marked_sent(bob, make_channel, make_policy):
    with Target() as target:
        channel = hooked(make_channel, make_policy, target.url)
        post = services.outbound_create(actor=bob, channel=channel, body="Deploy finished")
        assert services.outbound_deliver(post_id=post.pk) == "sent"
        assert services.outbound_deliver(post_id=post.pk) == "sent"  # a second task finds nothing to do
        assert services.outbound_sweep() == 0
    assert len(target.requests) == 1
    request = target.requests[0]
    payload = json.loads(request["body"])
    assert payload["text"] == "Deploy finished" and payload["delivery"] == str(post.delivery_key)
    import hashlib
    import hmac

    assert request["headers"]["X-Servicedesk-Signature"] == "sha256=" + hmac.new(b"s3cret-signing", request["body"], hashlib.sha256).hexdigest()
    post.refresh_from_db()
    assert post.status == "sent" and post.sent_at and post.attempts == 1
    attempt = post.delivery_attempts.get()
    assert attempt.outcome == "sent" and attempt.http_status == 200
    actions = list(AuditEntry.objects.filter(post=post).order_by("id").values_list("action", flat=True))
    assert actions == ["decided", "rechecked", "attempt", "delivered"]


@pytest.mark.usefixtures("allow_loopback")
def test_a_500_is_retried_with_backoff_and_arrives_once(bob, make_channel, make_policy, settings):
    settings.POLICIES_RETRY_BASE_SECONDS = 30
    with Target(fail_first=1) as target:
        channel = hooked(make_channel, make_policy, target.url)
        post = services.outbound_create(actor=bob, channel=channel, body="Deploy finished")
        assert services.outbound_deliver(post_id=post.pk) == "queued"
        post.refresh_from_db()
        assert post.next_attempt_at > timezone.now() + timedelta(seconds=20)
        assert services.outbound_deliver(post_id=post.pk) == "queued", "not due yet: nothing is sent"
        assert len(target.requests) == 1
        OutboundPost.objects.filter(pk=post.pk).update(next_attempt_at=timezone.now())
        assert services.outbound_sweep() == 1
    assert len(target.requests) == 2
    outcomes = list(post.delivery_attempts.values_list("outcome", "http_status"))
    assert outcomes == [("error", 500), ("sent", 200)]


@pytest.mark.usefixtures("allow_loopback")
def test_connection_refused_is_retried_until_the_maximum_then_failed(bob, make_channel, make_policy):
    channel = hooked(make_channel, make_policy, "http://127.0.0.1:9/hook")  # discard port: refused
    post = services.outbound_create(actor=bob, channel=channel, body="Deploy finished")
    statuses = [services.outbound_deliver(post_id=post.pk) for _ in range(3)]
    assert statuses == ["queued", "queued", "failed"]
    assert services.outbound_deliver(post_id=post.pk) == "failed"
    assert DeliveryAttempt.objects.filter(post=post).count() == 3
    # The record says it generically: the network error would tell which internal ports answer.
    assert {a.error for a in DeliveryAttempt.objects.filter(post=post)} == {"Could not reach the target."}


@pytest.mark.usefixtures("allow_loopback")
def test_a_target_that_never_answers_leaves_the_post_ambiguous_and_never_resends(bob, dave, make_channel, make_policy):
    with Target(hang=True) as target:
        channel = hooked(make_channel, make_policy, target.url)
        post = services.outbound_create(actor=bob, channel=channel, body="Deploy finished")
        assert services.outbound_deliver(post_id=post.pk) == "ambiguous"
        assert services.outbound_deliver(post_id=post.pk) == "ambiguous"
        assert services.outbound_sweep() == 0
        assert len(target.requests) == 1
        post.refresh_from_db()
        assert post.delivery_attempts.get().outcome == "ambiguous"
        # A reviewer checks the target and decides it did not arrive: one more send.
        target.hang = False
        services.outbound_resolve(actor=dave, post=post, outcome="retry", note="Nothing in the channel")
        assert services.outbound_deliver(post_id=post.pk) == "sent"
    assert len(target.requests) == 2


@pytest.mark.usefixtures("allow_loopback")
def test_a_4xx_fails_without_retry(bob, make_channel, make_policy):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    import threading

    class Gone(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Gone)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        channel = hooked(make_channel, make_policy, f"http://127.0.0.1:{server.server_address[1]}/hook")
        post = services.outbound_create(actor=bob, channel=channel, body="Deploy finished")
        assert services.outbound_deliver(post_id=post.pk) == "failed"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.usefixtures("allow_loopback")
def test_the_task_rechecks_the_policies_before_sending(bob, dave, make_channel, make_policy):
    with Target() as target:
        channel = hooked(make_channel, make_policy, target.url)
        post = services.outbound_create(actor=bob, channel=channel, body="Printing is slow today")
        services.policy_create(actor=dave, channel=channel, name="No slowness", blocked_terms=["slow"])
        assert services.outbound_deliver(post_id=post.pk) == "blocked"
    assert target.requests == []
    post.refresh_from_db()
    assert any("slow" in r for r in post.reasons)
    assert AuditEntry.objects.filter(post=post, action="rechecked", status="blocked").exists()


@pytest.mark.usefixtures("allow_loopback")
def test_an_approved_post_is_sent_despite_its_approval_hold(bob, dave, make_channel, make_policy):
    with Target() as target:
        channel = hooked(make_channel, make_policy, target.url, requires_approval=True)
        post = services.outbound_create(actor=bob, channel=channel, body="Town hall at 3pm")
        assert post.status == "pending_review"
        assert services.outbound_deliver(post_id=post.pk) == "pending_review"
        services.outbound_approve(actor=dave, post=post, note="ok")
        assert services.outbound_deliver(post_id=post.pk) == "sent"
    assert len(target.requests) == 1


@pytest.mark.usefixtures("allow_loopback")
def test_rate_limit_holds_posts_beyond_the_hourly_allowance(bob, make_channel, make_policy):
    channel = hooked(make_channel, make_policy, "http://127.0.0.1:9/hook", rate_limit_per_hour=2)
    statuses = [services.outbound_create(actor=bob, channel=channel, body=f"Update {i}").status for i in range(3)]
    assert statuses == ["queued", "queued", "pending_review"]


@pytest.mark.usefixtures("allow_loopback")
def test_a_worker_dead_mid_send_leaves_an_ambiguous_post_for_the_sweep(bob, make_channel, make_policy):
    channel = hooked(make_channel, make_policy, "http://127.0.0.1:9/hook")
    post = services.outbound_create(actor=bob, channel=channel, body="Deploy finished")
    started = services._start_attempt(post.pk)  # recorded and committed; the send never happens
    assert started is not None
    post.refresh_from_db()
    assert post.status == "sending"
    DeliveryAttempt.objects.filter(post=post).update(started_at=timezone.now() - timedelta(minutes=10))
    services.outbound_sweep()
    post.refresh_from_db()
    assert post.status == "ambiguous"
    assert post.delivery_attempts.get().outcome == "ambiguous"


def test_rss_posts_appear_in_the_public_status_feed(client, bob, make_channel, make_policy):
    channel = make_channel(name="Status", kind="rss")
    make_policy(channel)
    post = services.outbound_create(actor=bob, channel=channel, body="Planned maintenance on Saturday.")
    blocked = services.outbound_create(actor=bob, channel=channel, body="Printing is down")
    assert services.outbound_deliver(post_id=post.pk) == "sent"
    rss = client.get(f"/status/{channel.slug}/rss/")
    atom = client.get(f"/status/{channel.slug}/atom/")
    assert rss.status_code == atom.status_code == 200
    assert b"Planned maintenance on Saturday." in rss.content and b"Planned maintenance" in atom.content
    assert blocked.body.encode() not in rss.content
    assert client.get("/status/no-such-feed/rss/").status_code == 404


# --- posts from ticket events -------------------------------------------------------------------


@pytest.fixture
def status_channel(make_channel, make_policy):
    channel = make_channel(name="Public status", kind="rss", announces_incidents=True)
    make_policy(channel, name="Public incidents", allowed_events=["major_incident_opened", "ticket_resolved"],
                template="Service update on {number}: {event}.")
    return channel


def test_public_major_incidents_are_announced_without_details(alice, bob, status_channel, finance):
    from tickets.services import ticket_create, ticket_update

    ticket = ticket_create(actor=alice, kind="incident", title="Finance application unavailable due to network outage",
                           impact=1, urgency=1, visibility="public", service=finance)
    opened = OutboundPost.objects.get(ticket=ticket)
    assert opened.event == "major_incident_opened" and opened.status == "queued" and opened.created_by is None
    assert opened.text == f"Service update on {ticket.number}: major incident opened."
    ticket_update(actor=bob, ticket=ticket, status="resolved")
    resolved = OutboundPost.objects.get(ticket=ticket, event="ticket_resolved")
    assert "Finance" not in resolved.text and ticket.number in resolved.text
    assert OutboundPost.objects.filter(ticket=ticket).count() == 2


def test_private_or_minor_incidents_are_not_announced(alice, status_channel):
    from tickets.services import ticket_create

    ticket_create(actor=alice, kind="incident", title="My mouse", impact=3, urgency=3, visibility="public")
    ticket_create(actor=alice, kind="incident", title="Big but private", impact=1, urgency=1, visibility="private")
    assert not OutboundPost.objects.exists()


def test_a_closed_ticket_is_announced_on_the_requesters_chosen_channel(alice, bob, make_channel, make_policy):
    from tickets.services import ticket_create, ticket_update

    email = make_channel(name="Personal e-mail", kind="email", audience="private_group",
                         config={"to": ["updates@example.com"]}, offered_to_requesters=True)
    make_policy(email, allowed_events=["ticket_closed"], template="Your ticket {number} has been closed.")
    services.external_channel_set(actor=alice, channel_id=email.pk)
    ticket = ticket_create(actor=alice, kind="request", title="New laptop for alice@example.com")
    ticket_update(actor=bob, ticket=ticket, status="resolved")
    resolved = OutboundPost.objects.get()
    assert resolved.event == "ticket_status_changed" and resolved.status == "blocked", "no policy on the channel covers it"
    ticket_update(actor=bob, ticket=ticket, status="closed")
    post = OutboundPost.objects.get(event="ticket_closed")
    assert post.recipient == "alice@example.com" and post.status == "queued"
    assert post.text == f"Your ticket {ticket.number} has been closed."


def test_only_offered_channels_may_be_chosen(alice, make_channel):
    hidden = make_channel(name="Internal only", kind="rss", audience="internal")
    with pytest.raises(Exception) as excinfo:
        services.external_channel_set(actor=alice, channel_id=hidden.pk)
    assert getattr(excinfo.value, "status", None) == 400
    assert services.external_channel_set(actor=alice, channel_id=None) is None
    assert ExternalChannelPreference.objects.get(user=alice).channel is None
