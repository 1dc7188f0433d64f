"""Editing and deactivating channels and policies: the API, the rules an edit changes, the audit."""
import pytest

from policies import services
from policies.models import AuditEntry, Channel, OutboundPost, Policy

pytestmark = pytest.mark.django_db

HOOK = "https://hooks.partner.example.invalid/hook/OLDSECRETPATH"


@pytest.fixture
def hook(make_channel):
    return make_channel(name="Partner hook", kind="webhook", audience="private_group",
                        config={"url": HOOK, "secret": "old-signing-secret"})


def changes(channel, action="channel_changed"):
    return list(AuditEntry.objects.filter(action=action, channel=channel).order_by("id"))


# --- channels: API ------------------------------------------------------------------------------


def test_admin_reads_a_channel_without_its_secrets(api_as, dave, hook):
    response = api_as(dave).get(f"/api/v1/channels/{hook.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == hook.pk and body["name"] == "Partner hook" and body["active"] is True
    assert body["secrets_set"] == ["secret", "url"]
    assert "OLDSECRETPATH" not in str(body) and "old-signing-secret" not in str(body)


def test_admin_edits_a_channel_and_the_audit_names_the_changes_but_no_secret(api_as, dave, hook):
    response = api_as(dave).patch(f"/api/v1/channels/{hook.pk}/", {
        "name": "Partner webhook", "audience": "internal", "announces_incidents": True,
        "config": {"secret": "new-signing-secret"},
    }, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["name"] == "Partner webhook" and body["audience"] == "internal" and body["announces_incidents"] is True
    assert "new-signing-secret" not in str(body) and body["secrets_set"] == ["secret", "url"]
    hook.refresh_from_db()
    assert hook.config == {"url": HOOK, "secret": "new-signing-secret"}, "the URL left out is kept"
    assert hook.slug == "partner-hook", "the slug (and a status feed's address) stays"
    [row] = changes(hook)
    assert row.actor == dave
    text = " ".join(row.reasons) + row.note
    assert "Partner hook" in text and "Partner webhook" in text and "private_group" in text and "internal" in text
    assert "secret: replaced" in text and "announces_incidents: no \u2192 yes" in text
    assert "signing-secret" not in text and "OLDSECRETPATH" not in text


def test_an_explicit_empty_secret_clears_it_and_a_required_one_cannot_be_cleared(api_as, dave, hook):
    client = api_as(dave)
    response = client.patch(f"/api/v1/channels/{hook.pk}/", {"config": {"secret": ""}}, format="json")
    assert response.status_code == 200 and response.json()["secrets_set"] == ["url"]
    hook.refresh_from_db()
    assert hook.config == {"url": HOOK}
    assert "secret: cleared." in changes(hook)[-1].reasons
    for empty in ("", None):
        refused = client.patch(f"/api/v1/channels/{hook.pk}/", {"config": {"url": empty}}, format="json")
        assert refused.status_code == 400 and "config" in refused.json()["errors"]
    hook.refresh_from_db()
    assert hook.config == {"url": HOOK}
    assert len(changes(hook)) == 1


def test_a_new_url_replaces_the_old_one(api_as, dave, hook):
    response = api_as(dave).patch(f"/api/v1/channels/{hook.pk}/", {"config": {"url": "https://partner.example.net/in"}},
                                  format="json")
    assert response.status_code == 200
    hook.refresh_from_db()
    assert hook.config["url"] == "https://partner.example.net/in" and hook.config["secret"] == "old-signing-secret"
    assert "partner.example.net" not in " ".join(changes(hook)[-1].reasons), "a webhook URL is a secret too"


def test_an_edit_that_changes_nothing_writes_no_audit_row(api_as, dave, hook):
    response = api_as(dave).patch(f"/api/v1/channels/{hook.pk}/", {"name": "Partner hook", "active": True}, format="json")
    assert response.status_code == 200
    assert changes(hook) == []


@pytest.mark.parametrize("payload, field", [
    ({"name": ""}, "name"),
    ({"name": "Status"}, "name"),
    ({"kind": "slack"}, "kind"),
    ({"kind": "pigeon"}, "kind"),
    ({"audience": "everyone"}, "audience"),
    ({"config": {"url": "ftp://example.com"}}, "config"),
    ({"config": {"colour": "red"}}, "config"),
    ({"config": "http://x"}, "config"),
    ({"active": "maybe"}, "active"),
])
def test_bad_channel_edits_answer_400_and_change_nothing(api_as, dave, hook, make_channel, payload, field):
    make_channel(name="Status", kind="rss")
    response = api_as(dave).patch(f"/api/v1/channels/{hook.pk}/", payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    hook.refresh_from_db()
    assert (hook.name, hook.kind, hook.audience, hook.active) == ("Partner hook", "webhook", "private_group", True)
    assert changes(hook) == []


@pytest.mark.parametrize("who", ["alice", "bob", "carol"])
def test_only_admins_read_or_edit_a_channel(api_as, who, request, hook):
    client = api_as(request.getfixturevalue(who))
    assert client.get(f"/api/v1/channels/{hook.pk}/").status_code == 403
    response = client.patch(f"/api/v1/channels/{hook.pk}/", {"active": False}, format="json")
    assert response.status_code == 403 and response.json()["message"]
    assert client.get("/api/v1/channels/999999/").status_code == 403, "non-admins learn nothing about ids"
    hook.refresh_from_db()
    assert hook.active and changes(hook) == []


def test_unknown_channels_answer_404(api_as, api, dave):
    assert api_as(dave).get("/api/v1/channels/999999/").status_code == 404
    assert api_as(dave).patch("/api/v1/channels/999999/", {"active": False}, format="json").status_code == 404
    assert api.patch("/api/v1/channels/999999/", {"active": False}, format="json").status_code in (401, 403)


def test_the_service_refuses_non_admins(bob, hook):
    from servicedesk.errors import ApplicationError

    with pytest.raises(ApplicationError) as refused:
        services.channel_update(actor=bob, channel=hook, active=False)
    assert refused.value.status == 403


# --- channels: what deactivating does -----------------------------------------------------------


def test_an_inactive_channel_sends_nothing_even_what_was_queued(api_as, bob, dave, public_channel):
    queued = services.outbound_create(actor=bob, channel=public_channel, body="New printers arrive Monday.")
    assert queued.status == "queued"
    assert api_as(dave).patch(f"/api/v1/channels/{public_channel.pk}/", {"active": False}, format="json").status_code == 200
    assert services.outbound_deliver(post_id=queued.pk) == "blocked"
    queued.refresh_from_db()
    assert queued.attempts == 0 and "The channel is inactive" in queued.reasons[0]
    refused = api_as(bob).post("/api/v1/outbound/", {"channel": public_channel.pk, "body": "Hello"}, format="json")
    assert refused.status_code == 400 and "channel" in refused.json()["errors"]
    preview = api_as(bob).post("/api/v1/outbound/preview/", {"channel": public_channel.pk, "body": "Hello"}, format="json")
    assert preview.status_code == 400
    [row] = changes(public_channel)
    assert row.reasons == ["active: yes \u2192 no."]


def test_a_reactivated_channel_sends_again(dave, bob, public_channel):
    services.channel_update(actor=dave, channel=public_channel, active=False)
    services.channel_update(actor=dave, channel=public_channel, active=True)
    assert services.outbound_create(actor=bob, channel=public_channel, body="Hello again").status == "queued"
    assert len(changes(public_channel)) == 2


def test_an_inactive_status_channel_announces_nothing_and_serves_no_feed(client, dave, alice, make_channel, make_policy):
    from tickets.services import ticket_create

    status = make_channel(name="Status", kind="rss", announces_incidents=True)
    make_policy(status, blocked_terms=[])
    assert client.get(f"/status/{status.slug}/rss/").status_code == 200
    services.channel_update(actor=dave, channel=status, active=False)
    ticket_create(actor=alice, kind="incident", title="Printers", impact=1, urgency=1, visibility="public")
    assert not OutboundPost.objects.exists()
    assert client.get(f"/status/{status.slug}/rss/").status_code == 404


# --- policies: API ------------------------------------------------------------------------------


@pytest.fixture
def policy(public_channel):
    return public_channel.policies.get()


def test_admin_reads_and_edits_a_policy(api_as, dave, policy, finance):
    client = api_as(dave)
    read = client.get(f"/api/v1/policies/{policy.pk}/")
    assert read.status_code == 200 and read.json()["name"] == policy.name and read.json()["active"] is True
    response = client.patch(f"/api/v1/policies/{policy.pk}/", {
        "name": "Public posts", "blocked_terms": ["outage", "breach"], "blocked_patterns": [r"\bCHG\d{6}\b"],
        "requires_approval": True, "confidential_services": [finance.pk], "quiet_hours_start": "22:00",
        "quiet_hours_end": "07:00", "time_zone": "Europe/Paris",
    }, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["name"] == "Public posts" and body["blocked_terms"] == ["outage", "breach"]
    assert body["requires_approval"] is True and body["confidential_services"] == [finance.pk]
    assert body["quiet_hours_start"] == "22:00" and body["time_zone"] == "Europe/Paris"
    assert body["allowed_events"] == ["manual_post", "maintenance_notice"], "fields left out are kept"
    [row] = changes(policy.channel, "policy_changed")
    assert row.actor == dave and "Public posts" in row.note
    text = " ".join(row.reasons)
    assert "requires_approval: no \u2192 yes." in text and "breach" in text and "Finance application" in text
    assert "Europe/Paris" in text and "allowed_events" not in text


def test_a_policy_edit_applies_to_the_next_decision(api_as, bob, dave, policy):
    assert services.outbound_preview(actor=bob, channel=policy.channel, body="Printers are fine").allowed
    api_as(dave).patch(f"/api/v1/policies/{policy.pk}/", {"blocked_terms": ["printers"]}, format="json")
    decision = services.outbound_preview(actor=bob, channel=policy.channel, body="Printers are fine")
    assert decision.blocked and any("printers" in r for r in decision.reasons)


@pytest.mark.parametrize("patch, field", [
    ({"blocked_patterns": ["([unclosed"]}, "blocked_patterns"),
    ({"allowed_events": ["tweetstorm"]}, "allowed_events"),
    ({"template": "Hello {password}"}, "template"),
    ({"rate_limit_per_hour": -1}, "rate_limit_per_hour"),
    ({"channel": 999999}, "channel"),
    ({"quiet_hours_start": "22:00"}, "quiet_hours"),
    ({"time_zone": "Mars/Olympus"}, "time_zone"),
    ({"blocked_terms": "outage"}, "blocked_terms"),
    ({"confidential_services": [999999]}, "confidential_services"),
    ({"name": " "}, "name"),
    ({"active": "sometimes"}, "active"),
])
def test_bad_policy_edits_answer_400_and_change_nothing(api_as, dave, policy, patch, field):
    response = api_as(dave).patch(f"/api/v1/policies/{policy.pk}/", patch, format="json")
    assert response.status_code == 400, response.content
    assert field in {key.split(".")[0] for key in response.json()["errors"]}
    fresh = Policy.objects.get(pk=policy.pk)
    assert (fresh.name, fresh.blocked_patterns, fresh.active) == (policy.name, policy.blocked_patterns, True)
    assert changes(policy.channel, "policy_changed") == []


@pytest.mark.parametrize("who", ["alice", "bob", "carol"])
def test_only_admins_read_or_edit_a_policy(api_as, who, request, policy):
    client = api_as(request.getfixturevalue(who))
    assert client.get(f"/api/v1/policies/{policy.pk}/").status_code == 403
    assert client.patch(f"/api/v1/policies/{policy.pk}/", {"active": False}, format="json").status_code == 403
    assert Policy.objects.get(pk=policy.pk).active


def test_unknown_policies_answer_404(api_as, dave):
    assert api_as(dave).get("/api/v1/policies/999999/").status_code == 404
    assert api_as(dave).patch("/api/v1/policies/999999/", {"active": False}, format="json").status_code == 404


def test_a_channel_whose_policies_are_all_inactive_blocks_everything(api_as, bob, dave, public_channel, make_policy):
    second = make_policy(public_channel, name="Second", blocked_terms=[])
    first = public_channel.policies.exclude(pk=second.pk).get()
    client = api_as(dave)
    assert client.patch(f"/api/v1/policies/{first.pk}/", {"active": False}, format="json").json()["active"] is False
    still = services.outbound_preview(actor=bob, channel=public_channel, body="The outage is over")
    assert still.allowed, "the inactive policy's terms no longer apply; the active one governs"
    client.patch(f"/api/v1/policies/{second.pk}/", {"active": False}, format="json")
    decision = services.outbound_preview(actor=bob, channel=public_channel, body="New printers arrive Monday.")
    assert decision.blocked and "No policy governs this channel" in decision.reasons[0]
    assert [r.reasons for r in changes(public_channel, "policy_changed")] == [["active: yes \u2192 no."]] * 2


def test_moving_a_policy_to_another_channel_is_audited_on_both(api_as, dave, policy, make_channel):
    other = make_channel(name="Other", kind="rss")
    response = api_as(dave).patch(f"/api/v1/policies/{policy.pk}/", {"channel": other.slug}, format="json")
    assert response.status_code == 200 and response.json()["channel"] == other.pk
    assert len(changes(other, "policy_changed")) == 1 and len(changes(policy.channel, "policy_changed")) == 1


def test_the_schema_lists_the_detail_endpoints(api_as, dave):
    text = api_as(dave).get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    assert "/api/v1/channels/{channel_id}/" in text and "/api/v1/policies/{policy_id}/" in text


def test_channels_and_policies_cannot_be_deleted(api_as, dave, policy):
    assert api_as(dave).delete(f"/api/v1/channels/{policy.channel_id}/").status_code == 405
    assert api_as(dave).delete(f"/api/v1/policies/{policy.pk}/").status_code == 405
    assert Channel.objects.filter(pk=policy.channel_id).exists() and Policy.objects.filter(pk=policy.pk).exists()


# --- pages --------------------------------------------------------------------------------------


@pytest.fixture
def signed_in(client):
    def sign(user):
        client.force_login(user)
        return client

    return sign


def test_edit_pages_are_linked_from_the_lists(signed_in, dave, policy):
    client = signed_in(dave)
    channels = client.get("/communications/channels/").content.decode()
    assert f'href="/communications/channels/{policy.channel_id}/"' in channels and "1 active" in channels
    policies = client.get("/communications/policies/").content.decode()
    assert f'href="/communications/policies/{policy.pk}/"' in policies


@pytest.mark.parametrize("who", ["alice", "bob", "carol"])
def test_edit_pages_refuse_non_admins(signed_in, who, request, policy):
    client = signed_in(request.getfixturevalue(who))
    assert client.get(f"/communications/channels/{policy.channel_id}/").status_code == 403
    assert client.post(f"/communications/channels/{policy.channel_id}/", {"name": "Mine", "audience": "public"}).status_code == 403
    assert client.get(f"/communications/policies/{policy.pk}/").status_code == 403
    assert client.post(f"/communications/policies/{policy.pk}/", {"policy-name": "Mine"}).status_code == 403
    assert Channel.objects.get(pk=policy.channel_id).name == "Status on X"
    assert not AuditEntry.objects.filter(action__in=["channel_changed", "policy_changed"]).exists()


def test_edit_pages_answer_404_for_unknown_ids(signed_in, dave):
    client = signed_in(dave)
    assert client.get("/communications/channels/999999/").status_code == 404
    assert client.get("/communications/policies/999999/").status_code == 404


def test_channel_edit_page_keeps_the_secret_unless_replaced_or_removed(signed_in, dave, hook):
    client = signed_in(dave)
    page = client.get(f"/communications/channels/{hook.pk}/").content.decode()
    assert "<h1>" in page and "Partner hook" in page
    assert "OLDSECRETPATH" not in page and "old-signing-secret" not in page and "••••••••" in page
    form = {"name": "Partner hook", "audience": "private_group", "active": "on"}
    assert client.post(f"/communications/channels/{hook.pk}/", {**form, "name": "Partner hook (EU)"}).status_code == 302
    hook.refresh_from_db()
    assert hook.name == "Partner hook (EU)" and hook.config == {"url": HOOK, "secret": "old-signing-secret"}
    client.post(f"/communications/channels/{hook.pk}/", {**form, "secret": "rotated-secret"})
    hook.refresh_from_db()
    assert hook.config["secret"] == "rotated-secret" and hook.config["url"] == HOOK
    client.post(f"/communications/channels/{hook.pk}/", {**form, "clear_secret": "on"})
    hook.refresh_from_db()
    assert hook.config == {"url": HOOK}
    rows = changes(hook)
    assert len(rows) == 3 and all(r.actor == dave for r in rows)
    recorded = " ".join(" ".join(r.reasons) + r.note for r in rows)
    assert "secret: replaced (secret, not recorded)." in recorded and "secret: cleared." in recorded
    assert "rotated-secret" not in recorded and "old-signing-secret" not in recorded and "OLDSECRETPATH" not in recorded
    audit = client.get(f"/communications/audit/?channel={hook.pk}").content.decode()
    assert "Channel changed" in audit and "rotated-secret" not in audit


def test_channel_edit_page_deactivates_and_shows_errors(signed_in, dave, hook, make_channel):
    make_channel(name="Taken", kind="rss")
    client = signed_in(dave)
    taken = client.post(f"/communications/channels/{hook.pk}/", {"name": "taken", "audience": "private_group", "active": "on"})
    assert taken.status_code == 400 and b"id_name_error" in taken.content
    assert client.post(f"/communications/channels/{hook.pk}/", {"name": "Partner hook", "audience": "private_group"}).status_code == 302
    hook.refresh_from_db()
    assert not hook.active
    assert "Inactive: sends nothing" in client.get("/communications/channels/").content.decode()


def test_clearing_a_required_secret_on_the_page_is_refused(signed_in, dave, make_channel):
    toot = make_channel(name="Toots", kind="mastodon", config={"instance_url": "https://mastodon.example", "access_token": "tok-123456"})
    client = signed_in(dave)
    page = client.get(f"/communications/channels/{toot.pk}/").content.decode()
    assert 'value="https://mastodon.example"' in page and "tok-123456" not in page
    response = client.post(f"/communications/channels/{toot.pk}/", {"name": "Toots", "audience": "public", "active": "on",
                                                                    "url": "https://mastodon.example", "clear_secret": "on"})
    assert response.status_code == 400 and b"access_token is required" in response.content
    toot.refresh_from_db()
    assert toot.config["access_token"] == "tok-123456"


def policy_form(policy, **overrides):
    data = {
        "policy-name": policy.name, "policy-channel": policy.channel_id, "policy-allowed_events": policy.allowed_events,
        "policy-blocked_terms": "\n".join(policy.blocked_terms), "policy-blocked_patterns": "",
        "policy-block_personal_data": "on", "policy-template": "", "policy-rate_limit_per_hour": "0",
        "policy-time_zone": "UTC", "policy-active": "on",
    }
    data.update({f"policy-{k}": v for k, v in overrides.items()})
    return {k: v for k, v in data.items() if v is not None}


def test_policy_edit_page_is_prefilled_has_the_preview_and_saves(signed_in, dave, policy):
    client = signed_in(dave)
    page = client.get(f"/communications/policies/{policy.pk}/").content.decode()
    assert "<h1>" in page and 'value="Policy for Status on X"' in page and "offline" in page
    assert 'hx-post="/communications/preview/"' in page and "Try a message" in page
    assert f'<option value="{policy.channel_id}" selected' in page
    response = client.post(f"/communications/policies/{policy.pk}/", policy_form(policy, name="Public posts", requires_approval="on"))
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.name == "Public posts" and policy.requires_approval and policy.active
    [row] = changes(policy.channel, "policy_changed")
    assert row.actor == dave and "requires_approval: no \u2192 yes." in row.reasons


def test_policy_edit_page_rejects_a_broken_pattern_and_deactivates(signed_in, dave, bob, policy):
    client = signed_in(dave)
    broken = client.post(f"/communications/policies/{policy.pk}/", policy_form(policy, blocked_patterns="([oops"))
    assert broken.status_code == 400 and b"([oops" in broken.content and b"Try a message" in broken.content
    assert Policy.objects.get(pk=policy.pk).blocked_patterns == []
    assert client.post(f"/communications/policies/{policy.pk}/", policy_form(policy, active=None)).status_code == 302
    assert not Policy.objects.get(pk=policy.pk).active
    assert "blocks everything" in client.get("/communications/channels/").content.decode()
    assert services.outbound_preview(actor=bob, channel=policy.channel, body="Hello").blocked
