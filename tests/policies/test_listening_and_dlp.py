"""Inbound listening (feeds and signed webhooks) and internal DLP flags."""
import hashlib
import hmac
import json

import pytest

from feeds.models import Notification
from policies import services
from policies.models import DlpFlag, ListeningItem
from tests.support.webhook_target import Target

pytestmark = pytest.mark.django_db

SECRET = "a-shared-secret-of-some-length"

RSS = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>Forum</title><link>http://forum.example.com/</link><description>d</description>
<item><title>Terrible: the VPN keeps dropping, worst week ever</title><link>http://forum.example.com/1</link>
<guid>forum-1</guid><description>I hate this, nothing works and nobody helps.</description></item>
<item><title>Lovely new coffee machine</title><link>http://forum.example.com/2</link><guid>forum-2</guid>
<description>Great job facilities team!</description></item>
<item><title>Printer question</title><link>http://forum.example.com/3</link><guid>forum-3</guid>
<description>Which printer handles A3?</description></item>
</channel></rss>"""


@pytest.fixture
def webhook_source(dave):
    return services.listening_source_create(actor=dave, name="Mentions", kind="webhook", secret=SECRET)


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.mark.usefixtures("allow_loopback")
def test_feeds_are_polled_and_routed_by_keywords_and_sentiment(dave):
    services.listening_rule_create(actor=dave, label="printing", keywords=["printer", "A3"])
    with Target(body=RSS, content_type="application/rss+xml") as target:
        services.listening_source_create(actor=dave, name="Forum", kind="feed", url=target.url)
        assert services.listening_poll() == 3
        assert services.listening_poll() == 0, "entries are stored once"
    items = {i.external_id: i for i in ListeningItem.objects.all()}
    assert items["forum-1"].sentiment < -0.4 and "negative" in items["forum-1"].labels and items["forum-1"].on_wall
    assert items["forum-2"].sentiment > 0 and not items["forum-2"].on_wall
    assert items["forum-3"].labels == ["printing"] and items["forum-3"].on_wall


@pytest.mark.usefixtures("allow_loopback")
def test_a_broken_feed_is_recorded_not_raised(dave):
    source = services.listening_source_create(actor=dave, name="Gone", kind="feed", url="http://127.0.0.1:9/feed")
    assert services.listening_poll() == 0
    source.refresh_from_db()
    assert source.last_polled_at and source.last_error == "Could not reach the feed."


def test_signed_mentions_are_stored(api, webhook_source):
    body = json.dumps({"id": "m-1", "text": "@ourdesk the portal is awful today", "url": "https://social.example/@x/1",
                       "author": "@x"}).encode()
    response = api.post(f"/api/v1/listening/sources/{webhook_source.pk}/webhook/", body, content_type="application/json",
                        HTTP_X_SIGNATURE_256=sign(body))
    assert response.status_code == 201, response.content
    item = ListeningItem.objects.get()
    assert item.author == "@x" and item.on_wall and item.sentiment < 0


@pytest.mark.parametrize("signature, status", [("", 401), ("sha256=" + "0" * 64, 403), ("garbage", 403)])
def test_bad_signatures_are_refused_and_nothing_is_stored(api, webhook_source, signature, status):
    body = json.dumps({"id": "m-1", "text": "hello"}).encode()
    headers = {"HTTP_X_SIGNATURE_256": signature} if signature else {}
    response = api.post(f"/api/v1/listening/sources/{webhook_source.pk}/webhook/", body, content_type="application/json", **headers)
    assert response.status_code == status
    assert not ListeningItem.objects.exists()


def test_a_signature_with_another_secret_or_body_is_refused(api, webhook_source):
    body = json.dumps({"id": "m-1", "text": "hello"}).encode()
    url = f"/api/v1/listening/sources/{webhook_source.pk}/webhook/"
    assert api.post(url, body, content_type="application/json", HTTP_X_SIGNATURE_256=sign(body, "another-secret-xx")).status_code == 403
    assert api.post(url, body + b" ", content_type="application/json", HTTP_X_SIGNATURE_256=sign(body)).status_code == 403
    assert not ListeningItem.objects.exists()


def test_webhook_bad_input_is_400_and_unknown_source_404(api, webhook_source):
    url = f"/api/v1/listening/sources/{webhook_source.pk}/webhook/"
    for body in (b"not json", json.dumps({"text": ""}).encode(), json.dumps([1, 2]).encode()):
        assert api.post(url, body, content_type="application/json", HTTP_X_SIGNATURE_256=sign(body)).status_code == 400
    body = b"{}"
    assert api.post("/api/v1/listening/sources/999/webhook/", body, content_type="application/json",
                    HTTP_X_SIGNATURE_256=sign(body)).status_code == 404


def test_nul_characters_in_a_signed_mention_are_dropped_not_a_500(api, webhook_source):
    body = json.dumps({"id": "m-\u00002", "text": "the portal \u0000is awful", "author": "@\u0000x",
                       "title": "Awful\u0000"}).encode()
    response = api.post(f"/api/v1/listening/sources/{webhook_source.pk}/webhook/", body, content_type="application/json",
                        HTTP_X_SIGNATURE_256=sign(body))
    assert response.status_code == 201, response.content
    item = ListeningItem.objects.get()
    assert (item.external_id, item.body, item.author, item.title) == ("m-2", "the portal is awful", "@x", "Awful")


def test_an_agent_turns_an_item_into_a_linked_ticket_once(bob, alice, webhook_source):
    item = services.listening_webhook_receive(
        source_id=webhook_source.pk, raw_body=(raw := json.dumps({"id": "9", "text": "Portal is broken for me",
                                                                   "url": "https://social.example/9"}).encode()),
        signature=sign(raw),
    )[0]
    with pytest.raises(Exception) as denied:
        services.listening_item_to_ticket(actor=alice, item_id=item.pk)
    assert getattr(denied.value, "status", None) == 403
    ticket = services.listening_item_to_ticket(actor=bob, item_id=item.pk)
    assert "https://social.example/9" in ticket.description and "Mentions" in ticket.description
    assert 'href="https://social.example/9"' in ticket.description_html
    assert services.listening_item_to_ticket(actor=bob, item_id=item.pk) == ticket
    item.refresh_from_db()
    assert item.ticket == ticket


def test_only_admins_add_sources_and_rules(bob):
    for call in (lambda: services.listening_source_create(actor=bob, name="X", kind="feed", url="https://x.example/feed"),
                 lambda: services.listening_rule_create(actor=bob, label="x", keywords=["x"])):
        with pytest.raises(Exception) as excinfo:
            call()
        assert getattr(excinfo.value, "status", None) == 403


# --- internal DLP -------------------------------------------------------------------------------


def test_a_wall_post_with_personal_data_is_flagged_not_blocked(alice, dave, carol, bob):
    from feeds.services import post_create

    post = post_create(actor=alice, wall_type="user", wall_key="alice", body="My new number is +44 20 7946 0958, call me")
    assert post.pk
    flag = DlpFlag.objects.get()
    assert flag.kind == "feeds.post" and flag.author == alice and flag.findings[0]["kind"] == "phone"
    assert "7946" not in json.dumps(flag.findings), "the flag does not copy the data it warns about"
    notified = set(Notification.objects.filter(kind="policies.dlp").values_list("recipient__username", flat=True))
    assert notified == {"dave", "carol"}


def test_comments_answers_and_articles_are_scanned(alice, bob, dave):
    from communities.services import answer_post, article_create, community_create, question_ask
    from feeds.services import post_comment_add, post_create
    from tickets.services import comment_add, ticket_create

    ticket = ticket_create(actor=alice, kind="request", title="Access")
    comment_add(actor=bob, ticket=ticket, body="Use password: Temp#2026x for the first login")
    post = post_create(actor=alice, wall_type="user", wall_key="alice", body="Hello everyone")
    post_comment_add(actor=bob, post_id=post.pk, body="ping me at bob.private@example.net")
    community = community_create(actor=bob, name="Networking")
    question = question_ask(actor=bob, community=community, title="DNS?", body="Which DNS do we use?")
    answer_post(actor=bob, question=question, body="Ours is 10.0.0.53")
    article_create(actor=bob, title="Servers", body="The build host is srv-build-07")
    kinds = sorted(DlpFlag.objects.values_list("kind", flat=True))
    assert kinds == ["communities.answer", "communities.article", "feeds.comment", "tickets.comment"]


def test_benign_content_raises_no_flag(alice):
    from feeds.services import post_create

    post_create(actor=alice, wall_type="user", wall_key="alice", body="The new printers on floor 2 are great #printing")
    assert not DlpFlag.objects.exists()


def test_reviewers_dismiss_flags_and_others_may_not(alice, dave):
    flag = services.dlp_scan(author=alice, kind="feeds.post", object_id=1, text="mail me at a@example.com")
    with pytest.raises(Exception) as excinfo:
        services.dlp_flag_dismiss(actor=alice, flag_id=flag.pk)
    assert getattr(excinfo.value, "status", None) == 403
    services.dlp_flag_dismiss(actor=dave, flag_id=flag.pk)
    flag.refresh_from_db()
    assert flag.status == "dismissed" and flag.reviewed_by == dave
