"""API.md's policy and outbound endpoints: shapes, permissions (denied sides too), 400 not 500."""
import pytest

from policies import services
from policies.models import AuditEntry, Channel, OutboundPost, Policy

pytestmark = pytest.mark.django_db

FINANCE_OUTAGE = "Finance application unavailable due to network outage"


# --- channels -----------------------------------------------------------------------------------


def test_admin_creates_a_channel_and_its_secret_is_write_only(api_as, dave):
    response = api_as(dave).post("/api/v1/channels/", {
        "name": "Desk Slack", "kind": "slack", "audience": "private_group",
        "config": {"url": "https://hooks.slack.com/services/T000/B000/SECRETSECRET"},
    }, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["kind"] == "slack" and body["audience"] == "private_group"
    assert "SECRETSECRET" not in str(body)
    assert body["secrets_set"] == ["url"]
    listed = api_as(dave).get("/api/v1/channels/").json()
    assert [c["name"] for c in listed["results"]] == ["Desk Slack"] and "next" in listed
    assert "SECRETSECRET" not in str(listed)
    assert Channel.objects.get().config["url"].endswith("SECRETSECRET")


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_non_admins_may_neither_create_nor_list_channels(api_as, who, request):
    user = request.getfixturevalue(who)
    response = api_as(user).post("/api/v1/channels/", {"name": "X", "kind": "rss", "audience": "public"}, format="json")
    assert response.status_code == 403
    assert response.json()["message"]
    assert api_as(user).get("/api/v1/channels/").status_code == 403
    assert not Channel.objects.exists()


def test_anonymous_callers_are_refused(api):
    assert api.get("/api/v1/channels/").status_code in (401, 403)
    assert api.post("/api/v1/outbound/preview/", {}, format="json").status_code in (401, 403)


@pytest.mark.parametrize("payload, field", [
    ({"name": "A", "kind": "pigeon", "audience": "public"}, "kind"),
    ({"name": "A", "kind": "slack", "audience": "everyone"}, "audience"),
    ({"name": "A", "kind": "slack", "audience": "public"}, "config"),
    ({"name": "A", "kind": "slack", "audience": "public", "config": {"url": "ftp://x"}}, "config"),
    ({"name": "A", "kind": "email", "audience": "internal", "config": {"to": ["not-an-address"]}}, "config"),
    ({"name": "A", "kind": "webhook", "audience": "public", "config": "http://x"}, "config"),
    ({"name": "A", "kind": "rss", "audience": "public", "config": {"colour": "red"}}, "config"),
    ({"name": "", "kind": "rss", "audience": "public"}, "name"),
    ({"kind": "rss"}, "name"),
])
def test_bad_channels_answer_400(api_as, dave, payload, field):
    response = api_as(dave).post("/api/v1/channels/", payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]


def test_duplicate_channel_names_answer_400(api_as, dave, make_channel):
    make_channel(name="Status")
    response = api_as(dave).post("/api/v1/channels/", {"name": "status", "kind": "rss", "audience": "public"}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()["errors"]


# --- policies -----------------------------------------------------------------------------------


def test_admin_creates_a_policy(api_as, dave, make_channel, finance):
    channel = make_channel()
    response = api_as(dave).post("/api/v1/policies/", {
        "name": "Public", "channel": channel.pk, "allowed_events": ["manual_post", "ticket_resolved"],
        "blocked_terms": ["outage"], "blocked_patterns": [r"\bCHG\d{6}\b"], "block_personal_data": True,
        "template": "Your incident {number} has been resolved.", "requires_approval": False, "rate_limit_per_hour": 10,
        "confidential_services": [finance.pk], "quiet_hours_start": "22:00", "quiet_hours_end": "07:00", "time_zone": "Europe/Paris",
    }, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    for key in ("name", "channel", "allowed_events", "blocked_terms", "blocked_patterns", "block_personal_data", "template",
                "requires_approval", "rate_limit_per_hour"):
        assert key in body
    assert body["confidential_services"] == [finance.pk] and body["quiet_hours_start"] == "22:00"
    listed = api_as(dave).get("/api/v1/policies/").json()["results"]
    assert [p["name"] for p in listed] == ["Public"]
    assert AuditEntry.objects.filter(action="policy", actor=dave, channel=channel).exists()


@pytest.mark.parametrize("patch, field", [
    ({"blocked_patterns": ["([unclosed"]}, "blocked_patterns"),
    ({"allowed_events": ["tweetstorm"]}, "allowed_events"),
    ({"template": "Hello {password}"}, "template"),
    ({"rate_limit_per_hour": -1}, "rate_limit_per_hour"),
    ({"channel": 999999}, "channel"),
    ({"channel": "no-such-channel"}, "channel"),
    ({"quiet_hours_start": "22:00"}, "quiet_hours"),
    ({"time_zone": "Mars/Olympus"}, "time_zone"),
    ({"blocked_terms": "outage"}, "blocked_terms"),
    ({"confidential_services": [999999]}, "confidential_services"),
])
def test_bad_policies_answer_400(api_as, dave, make_channel, patch, field):
    channel = make_channel()
    response = api_as(dave).post("/api/v1/policies/", {"name": "P", "channel": channel.pk, **patch}, format="json")
    assert response.status_code == 400, response.content
    assert field in {key.split(".")[0] for key in response.json()["errors"]}
    assert not Policy.objects.exists()


@pytest.mark.parametrize("who", ["alice", "bob", "carol"])
def test_only_admins_manage_policies(api_as, who, request, make_channel):
    channel = make_channel()
    user = request.getfixturevalue(who)
    assert api_as(user).post("/api/v1/policies/", {"name": "P", "channel": channel.pk}, format="json").status_code == 403
    assert api_as(user).get("/api/v1/policies/").status_code == 403


# --- preview ------------------------------------------------------------------------------------


def test_preview_blocks_the_pitfall_with_reasons_and_stores_nothing(api_as, bob, public_channel):
    before = AuditEntry.objects.count()
    response = api_as(bob).post("/api/v1/outbound/preview/", {"channel": public_channel.pk, "body": FINANCE_OUTAGE}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["allowed"] is False and body["held"] is False
    assert body["text"] == FINANCE_OUTAGE
    assert any("Finance application" in r for r in body["reasons"])
    assert any("outage" in r for r in body["reasons"])
    assert not OutboundPost.objects.exists() and AuditEntry.objects.count() == before


def test_preview_allows_a_benign_message_by_slug(api_as, bob, public_channel):
    body = api_as(bob).post("/api/v1/outbound/preview/", {"channel": public_channel.slug, "body": "New printers arrive Monday."},
                            format="json").json()
    assert body == {"allowed": True, "held": False, "blocked": False, "text": "New printers arrive Monday.", "reasons": [],
                    "policies_applied": ["Policy for Status on X"], "policies_skipped": []}


def test_preview_with_a_ticket_uses_the_template(api_as, bob, dave, make_channel, make_policy, alice):
    from tickets.services import ticket_create

    channel = make_channel(name="Status feed", kind="rss")
    make_policy(channel, allowed_events=["ticket_resolved"], template="Your incident {number} has been resolved.")
    ticket = ticket_create(actor=alice, kind="incident", title="Payroll server 10.1.2.3 down")
    body = api_as(bob).post("/api/v1/outbound/preview/", {"channel": channel.pk, "body": ticket.title, "ticket": ticket.pk,
                                                          "event": "ticket_resolved"}, format="json").json()
    assert body["allowed"] is True
    assert body["text"] == f"Your incident {ticket.number} has been resolved."


def test_preview_denied_and_bad_input(api_as, alice, bob, public_channel):
    assert api_as(alice).post("/api/v1/outbound/preview/", {"channel": public_channel.pk, "body": "hi"}, format="json").status_code == 403
    for payload, field in (({"body": "hi"}, "channel"), ({"channel": public_channel.pk}, "body"),
                           ({"channel": public_channel.pk, "body": "hi", "event": "gossip"}, "event"),
                           ({"channel": public_channel.pk, "body": "hi", "ticket": "abc"}, "ticket"),
                           ({"channel": [1], "body": "hi"}, "channel")):
        response = api_as(bob).post("/api/v1/outbound/preview/", payload, format="json")
        assert response.status_code == 400, (payload, response.content)
        assert field in response.json()["errors"]
    missing = api_as(bob).post("/api/v1/outbound/preview/", {"channel": public_channel.pk, "body": "hi", "ticket": 999999}, format="json")
    assert missing.status_code == 404


# --- outbound posts -----------------------------------------------------------------------------


def test_blocked_post_is_stored_with_reasons_and_never_queued(api_as, bob, public_channel):
    response = api_as(bob).post("/api/v1/outbound/", {"channel": public_channel.pk, "body": FINANCE_OUTAGE}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "blocked" and body["reasons"]
    detail = api_as(bob).get(f"/api/v1/outbound/{body['id']}/").json()
    assert detail["status"] == "blocked" and detail["attempts"] == []
    assert AuditEntry.objects.filter(post_id=body["id"], action="decided", actor=bob, status="blocked").exists()


def test_allowed_post_is_queued(api_as, bob, public_channel):
    body = api_as(bob).post("/api/v1/outbound/", {"channel": public_channel.pk, "body": "New printers arrive Monday."},
                            format="json").json()
    assert body["status"] == "queued" and body["reasons"] == []


def test_held_post_is_approved_or_rejected_by_reviewers_only(api_as, bob, carol, dave, make_channel, make_policy):
    channel = make_channel(name="Careful", audience="private_group")
    make_policy(channel, requires_approval=True)
    first = api_as(bob).post("/api/v1/outbound/", {"channel": channel.pk, "body": "Team lunch on Friday"}, format="json").json()
    second = api_as(bob).post("/api/v1/outbound/", {"channel": channel.pk, "body": "Team lunch moved"}, format="json").json()
    assert first["status"] == second["status"] == "pending_review"

    assert api_as(bob).post(f"/api/v1/outbound/{first['id']}/approve/", {"note": "mine"}, format="json").status_code == 403
    approved = api_as(dave).post(f"/api/v1/outbound/{first['id']}/approve/", {"note": "Fine to send"}, format="json")
    assert approved.status_code == 200
    assert approved.json()["status"] == "queued" and approved.json()["review_note"] == "Fine to send"
    again = api_as(dave).post(f"/api/v1/outbound/{first['id']}/approve/", {}, format="json")
    assert again.status_code == 400

    rejected = api_as(carol).post(f"/api/v1/outbound/{second['id']}/reject/", {"note": "Not now"}, format="json").json()
    assert rejected["status"] == "blocked" and rejected["reasons"][-1] == "Rejected by Carol Jones: Not now"
    actions = list(AuditEntry.objects.filter(post__in=[first["id"], second["id"]]).values_list("action", "actor__username"))
    assert ("approved", "dave") in actions and ("rejected", "carol") in actions


def test_outbound_posts_are_hidden_from_those_who_may_not_see_them(api_as, alice, bob, make_user, public_channel):
    from accounts.models import Role

    post = api_as(bob).post("/api/v1/outbound/", {"channel": public_channel.pk, "body": "Hello"}, format="json").json()
    other_agent = make_user("frank", role=Role.AGENT)
    assert api_as(alice).get(f"/api/v1/outbound/{post['id']}/").status_code == 404
    assert api_as(other_agent).get(f"/api/v1/outbound/{post['id']}/").status_code == 404
    assert api_as(alice).post(f"/api/v1/outbound/{post['id']}/approve/", {}, format="json").status_code == 404
    assert api_as(alice).post("/api/v1/outbound/", {"channel": public_channel.pk, "body": "Hello"}, format="json").status_code == 403
    assert api_as(bob).get("/api/v1/outbound/999999/").status_code == 404


def test_resolving_an_ambiguous_delivery(api_as, bob, dave, public_channel):
    post = services.outbound_create(actor=bob, channel=public_channel, body="Hello")
    OutboundPost.objects.filter(pk=post.pk).update(status="ambiguous")
    assert api_as(bob).post(f"/api/v1/outbound/{post.pk}/resolve/", {"outcome": "sent"}, format="json").status_code == 403
    assert api_as(dave).post(f"/api/v1/outbound/{post.pk}/resolve/", {"outcome": "maybe"}, format="json").status_code == 400
    body = api_as(dave).post(f"/api/v1/outbound/{post.pk}/resolve/", {"outcome": "sent", "note": "Seen in Slack"}, format="json").json()
    assert body["status"] == "sent"
    assert api_as(dave).post(f"/api/v1/outbound/{post.pk}/resolve/", {"outcome": "retry"}, format="json").status_code == 400


def test_schema_lists_the_policy_endpoints(api_as, dave):
    response = api_as(dave).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    text = response.content.decode()
    for path in ("/api/v1/channels/", "/api/v1/policies/", "/api/v1/outbound/preview/", "/api/v1/outbound/{post_id}/approve/"):
        assert path in text


def test_a_channel_named_by_a_digit_that_is_no_number_is_400(api_as, bob, dave, public_channel):
    # "²" is a digit to str.isdigit() but not a number to int().
    for path, user, body in (("/api/v1/outbound/preview/", bob, {"channel": "\u00b2", "body": "hi"}),
                             ("/api/v1/policies/", dave, {"name": "Strict", "channel": "\u00b2"})):
        response = api_as(user).post(path, body, format="json")
        assert response.status_code == 400 and "channel" in response.json()["errors"], response.content


def test_a_nul_character_in_a_channel_setting_is_400_without_echoing_it(api_as, dave, make_channel):
    created = api_as(dave).post("/api/v1/channels/", {"name": "Status", "kind": "rss", "audience": "public",
                                                      "config": {"title": "Status\u0000"}}, format="json")
    assert created.status_code == 400 and "title contains a NUL character." in created.json()["errors"]["config"]
    hook = make_channel(name="Hook", kind="webhook", audience="internal")
    patched = api_as(dave).patch(f"/api/v1/channels/{hook.pk}/", {"config": {"secret": "hunter2\u0000hunter2"}}, format="json")
    assert patched.status_code == 400 and "hunter2" not in patched.content.decode()
