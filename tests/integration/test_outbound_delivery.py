"""Outbound posts end to end: the API on a real ASGI server, a real Celery worker (with beat and
its sweep), PostgreSQL, Redis, and a local HTTP server playing the webhook / Slack target."""
import time

import pytest

from policies import services
from policies.models import OutboundPost
from tests.conftest import PASSWORD
from tests.policies.conftest import allow_loopback, finance, make_channel, make_policy  # noqa: F401 - shared fixtures
from tests.support.processes import http, wait_for
from tests.support.webhook_target import Target

pytestmark = pytest.mark.integration

WORKER_ENV = {
    "POLICIES_HTTP_TIMEOUT": "1.5",
    "POLICIES_CONNECT_TIMEOUT": "1",
    "POLICIES_RETRY_BASE_SECONDS": "0.5",
    "POLICIES_SWEEP_SECONDS": "1",
    "POLICIES_STUCK_GRACE_SECONDS": "30",
    "OUTBOUND_ALLOWED_HOSTS": "127.0.0.1",  # the local targets below; the guard refuses loopback otherwise
}


def token_for(base: str, username: str) -> str:
    status, body = http("POST", f"{base}/api/v1/auth/token/", body={"username": username, "password": PASSWORD})
    assert status == 200, body
    return body["token"]


def post(base: str, token: str, channel, body: str) -> dict:
    status, answer = http("POST", f"{base}/api/v1/outbound/", body={"channel": channel.pk, "body": body},
                          headers={"Authorization": f"Token {token}"})
    assert status == 201, answer
    return answer


def status_of(post_id: int) -> str:
    return OutboundPost.objects.get(pk=post_id).status


def test_outbound_delivery_exactly_once_blocked_never_timeouts_ambiguous_500_retried(
    bob, dave, finance, asgi_server, start_worker, make_channel, make_policy, allow_loopback
):
    start_worker(beat=True, env_overrides=WORKER_ENV)
    base = asgi_server.extra["base_url"]
    token = token_for(base, "bob")
    with Target() as slack, Target(hang=True) as silent, Target(fail_first=1) as flaky:
        slack_channel = make_channel(name="Desk Slack", kind="slack", audience="public", config={"url": slack.url})
        make_policy(slack_channel, allowed_events=["manual_post"])
        silent_channel = make_channel(name="Silent hook", kind="webhook", audience="internal", config={"url": silent.url})
        make_policy(silent_channel)
        flaky_channel = make_channel(name="Flaky hook", kind="webhook", audience="internal", config={"url": flaky.url})
        make_policy(flaky_channel)

        allowed = post(base, token, slack_channel, "New printers arrive on Monday.")
        blocked = post(base, token, slack_channel, "Finance application unavailable due to network outage")
        hanging = post(base, token, silent_channel, "Deploy of the portal finished")
        retried = post(base, token, flaky_channel, "Nightly report is ready")
        assert allowed["status"] == "queued" and hanging["status"] == "queued" and retried["status"] == "queued"
        assert blocked["status"] == "blocked" and any("Finance application" in r for r in blocked["reasons"])

        wait_for(lambda: status_of(allowed["id"]) == "sent", timeout=20, what="the allowed post to be sent")
        wait_for(lambda: status_of(hanging["id"]) == "ambiguous", timeout=20, what="the silent target to time out")
        wait_for(lambda: status_of(retried["id"]) == "sent", timeout=20, what="the retried post to be sent")
        time.sleep(4)  # several sweeps run; none may send anything again

        assert [b["text"] for b in slack.json_bodies()] == ["New printers arrive on Monday."]
        assert len(silent.requests) == 1, "an ambiguous delivery is never retried blindly"
        assert len(flaky.requests) == 2 and all(b["text"] == "Nightly report is ready" for b in flaky.json_bodies())
        assert status_of(blocked["id"]) == "blocked" and status_of(hanging["id"]) == "ambiguous"

        _, detail = http("GET", f"{base}/api/v1/outbound/{retried['id']}/", headers={"Authorization": f"Token {token}"})
        assert [(a["outcome"], a["http_status"]) for a in detail["attempts"]] == [("error", 500), ("sent", 200)]
        _, detail = http("GET", f"{base}/api/v1/outbound/{hanging['id']}/", headers={"Authorization": f"Token {token}"})
        assert [a["outcome"] for a in detail["attempts"]] == ["ambiguous"]

        # An admin checks the silent target, sees it arrived, and settles it: still one post.
        services.outbound_resolve(actor=dave, post=OutboundPost.objects.get(pk=hanging["id"]), outcome="sent", note="seen")
        time.sleep(2)
        assert len(silent.requests) == 1 and status_of(hanging["id"]) == "sent"
