"""Pages of communication policies: who may open them, what they show, forms, CSV, query budgets."""
import csv
import io

import pytest

from policies import services
from policies.models import Channel, OutboundPost, Policy

pytestmark = pytest.mark.django_db

FINANCE_OUTAGE = "Finance application unavailable due to network outage"


@pytest.fixture
def signed_in(client):
    def sign(user):
        client.force_login(user)
        return client

    return sign


ADMIN_PAGES = ["/communications/channels/", "/communications/policies/"]
REVIEW_PAGES = ["/communications/review/", "/communications/audit/", "/communications/flags/"]


@pytest.mark.parametrize("path", ADMIN_PAGES + REVIEW_PAGES + ["/communications/outbound/", "/communications/listening/"])
def test_admin_opens_every_page(signed_in, dave, path):
    response = signed_in(dave).get(path)
    assert response.status_code == 200
    assert b"<h1>" in response.content


@pytest.mark.parametrize("path", ADMIN_PAGES + REVIEW_PAGES + ["/communications/outbound/", "/communications/listening/"])
def test_end_users_are_refused_every_page(signed_in, alice, path):
    assert signed_in(alice).get(path).status_code == 403


@pytest.mark.parametrize("path", ADMIN_PAGES + REVIEW_PAGES)
def test_agents_are_refused_admin_and_review_pages(signed_in, bob, path):
    assert signed_in(bob).get(path).status_code == 403


def test_managers_review_but_do_not_manage(signed_in, carol):
    client = signed_in(carol)
    assert client.get("/communications/review/").status_code == 200
    assert client.get("/communications/channels/").status_code == 403


def test_the_nav_entry_by_role(signed_in, alice, bob, dave):
    assert b"/communications/" not in signed_in(alice).get("/feed/").content
    assert b">Listening</a>" in signed_in(bob).get("/feed/").content
    assert b">Communications</a>" in signed_in(dave).get("/feed/").content
    assert signed_in(bob).get("/communications/").url == "/communications/listening/"
    assert signed_in(dave).get("/communications/").url == "/communications/review/"


def test_channel_form_creates_a_channel_and_masks_its_secret(signed_in, dave):
    client = signed_in(dave)
    response = client.post("/communications/channels/", {
        "name": "Desk Slack", "kind": "slack", "audience": "private_group",
        "url": "https://hooks.slack.com/services/T0/B0/TOPSECRETVALUE",
    })
    assert response.status_code == 302
    page = client.get("/communications/channels/").content.decode()
    assert "Desk Slack" in page and "TOPSECRETVALUE" not in page and "••••••••" in page


def test_channel_form_shows_errors_next_to_fields(signed_in, dave):
    response = signed_in(dave).post("/communications/channels/", {"name": "", "kind": "slack", "audience": "public"})
    assert response.status_code == 400
    assert b'aria-describedby="id_name_error"' in response.content or b"id_name_error" in response.content
    missing_url = signed_in(dave).post("/communications/channels/", {"name": "S", "kind": "slack", "audience": "public"})
    assert missing_url.status_code == 400 and b"url is required" in missing_url.content
    assert not Channel.objects.exists()


def test_policy_form_and_live_preview(signed_in, dave, make_channel, finance):
    channel = make_channel()
    client = signed_in(dave)
    response = client.post("/communications/policies/", {
        "policy-name": "Public", "policy-channel": channel.pk, "policy-allowed_events": ["manual_post"],
        "policy-blocked_terms": "outage\nunavailable", "policy-blocked_patterns": "", "policy-block_personal_data": "on",
        "policy-template": "", "policy-rate_limit_per_hour": "0", "policy-time_zone": "UTC",
    })
    assert response.status_code == 302, response.content
    assert Policy.objects.get().blocked_terms == ["outage", "unavailable"]
    fragment = client.post("/communications/preview/", {"preview-channel": channel.pk, "preview-body": FINANCE_OUTAGE,
                                                        "preview-event": "manual_post"}, HTTP_HX_REQUEST="true")
    text = fragment.content.decode()
    assert fragment.status_code == 200 and "Blocked" in text and "confidential service" in text and "outage" in text
    ok = client.post("/communications/preview/", {"preview-channel": channel.pk, "preview-body": "New printers on Monday",
                                                  "preview-event": "manual_post"}).content.decode()
    assert "Allowed" in ok
    assert not OutboundPost.objects.exists()


def test_policy_form_rejects_a_broken_pattern(signed_in, dave, make_channel):
    channel = make_channel()
    response = signed_in(dave).post("/communications/policies/", {
        "policy-name": "P", "policy-channel": channel.pk, "policy-blocked_patterns": "([oops",
        "policy-rate_limit_per_hour": "0", "policy-time_zone": "UTC",
    })
    assert response.status_code == 400 and b"([oops" in response.content
    assert not Policy.objects.exists()


def test_preview_endpoint_refuses_end_users(signed_in, alice, public_channel):
    response = signed_in(alice).post("/communications/preview/", {"preview-channel": public_channel.pk, "preview-body": "x"})
    assert response.status_code == 403


def test_review_queue_approve_and_reject_with_notes(signed_in, bob, dave, make_channel, make_policy):
    channel = make_channel(name="Careful", audience="private_group")
    make_policy(channel, requires_approval=True)
    first = services.outbound_create(actor=bob, channel=channel, body="Town hall at 3pm")
    second = services.outbound_create(actor=bob, channel=channel, body="Town hall moved")
    client = signed_in(dave)
    page = client.get("/communications/review/").content.decode()
    assert "Town hall at 3pm" in page and "A reviewer must approve" in page
    assert client.post(f"/communications/outbound/{first.pk}/approve/", {"note": "Go", "next": "review"}).url == "/communications/review/"
    client.post(f"/communications/outbound/{second.pk}/reject/", {"note": "No"})
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.status, first.review_note) == ("queued", "Go")
    assert (second.status, second.review_note) == ("blocked", "No")
    assert signed_in(bob).post(f"/communications/outbound/{first.pk}/reject/", {"note": "x"}).status_code == 403


def test_review_and_outbound_lists_have_a_fixed_query_budget(signed_in, bob, dave, make_channel, make_policy,
                                                           django_assert_max_num_queries):
    channel = make_channel(name="Careful", audience="private_group")
    make_policy(channel, requires_approval=True)
    client = signed_in(dave)
    services.outbound_create(actor=bob, channel=channel, body="One")
    with django_assert_max_num_queries(12) as few:
        client.get("/communications/review/")
    for i in range(15):
        services.outbound_create(actor=bob, channel=channel, body=f"Post {i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/communications/review/")
    with django_assert_max_num_queries(12):
        client.get("/communications/outbound/")


def test_audit_filters_and_csv(signed_in, bob, dave, public_channel, make_channel, make_policy,
                               django_assert_max_num_queries):
    other = make_channel(name="Other", kind="rss")
    make_policy(other)
    services.outbound_create(actor=bob, channel=public_channel, body=FINANCE_OUTAGE)
    services.outbound_create(actor=bob, channel=other, body="Hello world")
    client = signed_in(dave)
    page = client.get(f"/communications/audit/?channel={public_channel.pk}&status=blocked&actor=bob").content.decode()
    assert "Names the confidential service" in page and "Hello world" not in page
    assert "Policy for Other" not in page
    none = client.get("/communications/audit/?actor=nobody&date_from=2001-01-01&date_to=2001-01-02").content.decode()
    assert "No entries match." in none
    with django_assert_max_num_queries(12):
        client.get("/communications/audit/")
    response = client.get(f"/communications/audit/?channel={public_channel.slug}&format=csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["id", "at", "action", "actor"]
    assert {r[2] for r in rows[1:]} == {"channel", "policy", "decided"}
    assert all(r[4] == public_channel.name for r in rows[1:])


def test_post_detail_shows_decision_and_history(signed_in, bob, dave, public_channel, alice):
    post = services.outbound_create(actor=bob, channel=public_channel, body=FINANCE_OUTAGE)
    page = signed_in(dave).get(f"/communications/outbound/{post.pk}/").content.decode()
    assert "Blocked" in page and "Names the confidential service" in page and "Decided" in page
    assert signed_in(alice).get(f"/communications/outbound/{post.pk}/").status_code == 404


def test_outbound_form_posts_through_the_policies(signed_in, bob, public_channel):
    response = signed_in(bob).post("/communications/outbound/", {"channel": public_channel.pk, "body": FINANCE_OUTAGE,
                                                                 "event": "manual_post"})
    post = OutboundPost.objects.get()
    assert response.url == f"/communications/outbound/{post.pk}/" and post.status == "blocked"


def test_listening_page_poll_now_and_make_a_ticket(signed_in, bob, dave):
    import hashlib
    import hmac
    import json

    source = services.listening_source_create(actor=dave, name="Mentions", kind="webhook", secret="x" * 20)
    raw = json.dumps({"id": "1", "text": "The portal is awful and broken", "url": "https://social.example/1"}).encode()
    services.listening_webhook_receive(source_id=source.pk, raw_body=raw,
                                       signature="sha256=" + hmac.new(b"x" * 20, raw, hashlib.sha256).hexdigest())
    client = signed_in(bob)
    page = client.get("/communications/listening/").content.decode()
    assert "The portal is awful and broken" in page and "Make a ticket" in page and "Add a source" not in page
    assert client.post("/communications/listening/", {"action": "poll"}).status_code == 302
    item_id = source.items.get().pk
    response = client.post(f"/communications/listening/{item_id}/ticket/")
    assert response.status_code == 302 and response.url.startswith("/tickets/")
    assert signed_in(dave).post("/communications/listening/", {"action": "rule", "rule-label": "vpn",
                                                               "rule-keywords": "vpn\ntunnel"}).status_code == 302


def test_flags_page_lists_and_dismisses(signed_in, alice, dave):
    flag = services.dlp_scan(author=alice, kind="feeds.post", object_id=7, text="mail me at alice.home@example.com",
                             url="/posts/7/")
    client = signed_in(dave)
    page = client.get("/communications/flags/").content.decode()
    assert "an e-mail address" in page and "alice.home@example.com" not in page
    client.post(f"/communications/flags/{flag.pk}/dismiss/")
    assert "No flags." in client.get("/communications/flags/").content.decode()
    assert signed_in(alice).post(f"/communications/flags/{flag.pk}/dismiss/").status_code == 403


def test_people_choose_their_external_channel_on_the_preferences_page(signed_in, alice, make_channel):
    channel = make_channel(name="Team e-mail", kind="email", audience="private_group", config={"to": ["t@example.com"]},
                           offered_to_requesters=True)
    client = signed_in(alice)
    page = client.get("/account/notifications/").content.decode()
    assert "Tell me about my tickets on" in page and "Team e-mail" in page
    assert client.post("/account/external-channel/", {"channel": channel.pk}).url == "/account/notifications/"
    assert alice.external_channel_preference.channel == channel
    assert client.post("/account/external-channel/", {"channel": "999"}).status_code == 302
    alice.external_channel_preference.refresh_from_db()
    assert alice.external_channel_preference.channel == channel


def test_agents_see_only_their_own_posts_and_reviewers_see_all(signed_in, bob, dave, make_user, public_channel):
    from accounts.models import Role

    frank = make_user("frank", role=Role.AGENT)
    services.outbound_create(actor=bob, channel=public_channel, body="Bob's note about printers")
    services.outbound_create(actor=frank, channel=public_channel, body="Frank's note about laptops")
    mine = signed_in(bob).get("/communications/outbound/").content.decode()
    assert "Bob&#x27;s note" in mine and "Frank&#x27;s note" not in mine
    everything = signed_in(dave).get("/communications/outbound/").content.decode()
    assert "Bob&#x27;s note" in everything and "Frank&#x27;s note" in everything


def test_audit_filters_with_digits_that_are_no_numbers_are_ignored(signed_in, dave, public_channel):
    # "²" is a digit to str.isdigit() but not a number to int().
    client = signed_in(dave)
    assert client.get("/communications/audit/", {"channel": "\u00b2"}).status_code == 200
    assert client.get("/communications/audit/", {"before": "\u00b2"}).status_code == 200
    response = client.get("/communications/audit/", {"channel": "\u00b2", "format": "csv"})
    assert len(list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))) == 1


def test_audit_csv_keeps_formulas_as_text(signed_in, bob, dave, make_channel, make_policy):
    channel = make_channel(name="=Status", kind="rss")
    make_policy(channel, requires_approval=True)
    post = services.outbound_create(actor=bob, channel=channel, body='=HYPERLINK("#top","Click")')
    services.outbound_reject(actor=dave, post=post, note="@SUM(1+1)")
    response = signed_in(dave).get("/communications/audit/", {"format": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    cells = [cell for row in rows[1:] for cell in row]
    assert "'=Status" in cells and "'@SUM(1+1)" in cells
    assert any(cell.startswith("'=HYPERLINK(") for cell in cells)
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@")]
