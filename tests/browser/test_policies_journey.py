"""Dave governs what leaves the building: he writes a policy, tries the pitfall in the live
preview and sees it blocked with the reason, approves a held post, and finds both in the audit."""
import re

import pytest
from playwright.sync_api import expect

from policies import services
from policies.models import AuditEntry, OutboundPost
from tests.browser.conftest import assert_accessible, off_thread, sign_in
from tests.conftest import PASSWORD
from tickets import services as ticket_services

pytestmark = pytest.mark.browser

FINANCE_OUTAGE = "Finance application unavailable due to network outage"


def test_dave_writes_a_policy_previews_the_pitfall_approves_a_held_post_and_audits(bob, dave, new_page):
    off_thread(ticket_services.service_create, name="Finance application", confidential=True)
    off_thread(services.channel_create, actor=dave, name="Status on X", kind="x", audience="public",
               config={"bearer_token": "x-token-never-shown"})
    careful = off_thread(services.channel_create, actor=dave, name="Partners Slack", kind="slack", audience="private_group",
                         config={"url": "https://hooks.example.invalid/hook"})
    off_thread(services.policy_create, actor=dave, channel=careful, name="Partners: a reviewer approves", requires_approval=True)
    held = off_thread(services.outbound_create, actor=bob, channel=careful, body="Partner portal upgrade this Saturday")
    assert held.status == "pending_review"

    page = new_page()
    sign_in(page, "dave", PASSWORD)
    main_nav = page.get_by_role("navigation", name="Main")
    main_nav.get_by_text("Manage", exact=True).click()  # staff tools sit in the Manage menu
    main_nav.get_by_role("link", name="Communications").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Review queue")
    # The menu says the current page is one of its own, as the link inside does.
    expect(page.get_by_role("navigation", name="Main").get_by_text("Manage", exact=True)).to_have_attribute("aria-current", "true")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Communications", include_hidden=True)).to_have_attribute(
        "aria-current", "page")
    assert_accessible(page)

    # A policy for the public channel.
    page.get_by_role("navigation", name="Communications").get_by_role("link", name="Policies").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Communication policies")
    assert_accessible(page)
    page.get_by_label("Name", exact=True).fill("Public posts")
    page.get_by_label("Channel", exact=True).select_option(label="Status on X")
    page.get_by_label("A post written by a person").check()
    expect(page.get_by_label("Blocked terms")).to_have_value(re.compile("outage"))
    page.get_by_role("button", name="Save policy").click()
    expect(page.get_by_role("status").filter(has_text="Policy “Public posts” saved.")).to_be_visible()
    expect(page.get_by_role("row", name="Public posts")).to_be_visible()
    assert_accessible(page)

    # The pitfall, typed into the live preview.
    page.get_by_label("Channel to check against").select_option(label="Status on X")
    page.get_by_label("Message to check").press_sequentially(FINANCE_OUTAGE, delay=10)
    result = page.locator("#preview-result")
    expect(result).to_contain_text("Blocked")
    expect(result).to_contain_text("Names the confidential service “Finance application”")
    expect(result).to_contain_text("Blocked term “outage”")
    assert_accessible(page)
    assert not OutboundPost.objects.exclude(pk=held.pk).exists(), "a preview stores and sends nothing"

    # The partners' policy, switched off: the channel it governed now blocks everything.
    page.get_by_role("link", name="Edit Partners: a reviewer approves").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Edit policy")
    assert_accessible(page)
    page.get_by_label("Active", exact=True).uncheck()
    page.get_by_role("button", name="Save policy").click()
    expect(page.get_by_role("status").filter(has_text="saved")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Partners: a reviewer approves"))).to_contain_text("Inactive")

    # The held post, approved with a note.
    page.get_by_role("navigation", name="Communications").get_by_role("link", name="Review queue").click()
    item = page.locator(f"#post-{held.pk}")
    expect(item).to_contain_text("Partner portal upgrade this Saturday")
    expect(item).to_contain_text("A reviewer must approve")
    assert_accessible(page)
    item.get_by_label(f"Note on post #{held.pk}").fill("Checked with the partner team")
    item.get_by_role("button", name=f"Approve post #{held.pk}").click()
    expect(page.get_by_role("status").filter(has_text=f"Post #{held.pk} approved")).to_be_visible()
    expect(page.locator(f"#post-{held.pk}")).to_have_count(0)
    assert_accessible(page)

    # Both are in the audit trail, found by their actor.
    page.get_by_role("navigation", name="Communications").get_by_role("link", name="Audit").click()
    page.get_by_label("Actor (username, or “system”)").fill("dave")
    page.get_by_role("button", name="Filter").click()
    table = page.locator("#audit-table")
    expect(table.get_by_role("row").filter(has_text="Policy created").filter(has_text="Policy “Public posts”")).to_be_visible()
    expect(table.get_by_role("row").filter(has_text="Approved").filter(has_text="Checked with the partner team")).to_be_visible()
    assert_accessible(page)
    assert AuditEntry.objects.filter(action="approved", actor=dave, post=held).exists()


def test_every_communications_page_is_accessible(alice, bob, dave, new_page):
    channel = off_thread(services.channel_create, actor=dave, name="Team e-mail", kind="email", audience="private_group",
                         config={"to": ["team@example.com"]}, offered_to_requesters=True)
    policy = off_thread(services.policy_create, actor=dave, channel=channel, name="Team mail", blocked_terms=["outage"])
    blocked = off_thread(services.outbound_create, actor=bob, channel=channel, body="Printing outage on floor 2")
    source = off_thread(services.listening_source_create, actor=dave, name="Mentions", kind="webhook", secret="s" * 20)
    import hashlib
    import hmac
    import json

    raw = json.dumps({"id": "1", "text": "The portal is awful today", "url": "https://social.example/1"}).encode()
    off_thread(services.listening_webhook_receive, source_id=source.pk, raw_body=raw,
               signature="sha256=" + hmac.new(b"s" * 20, raw, hashlib.sha256).hexdigest())
    off_thread(services.dlp_scan, author=alice, kind="feeds.post", object_id=1, text="call me on +44 20 7946 0958")

    page = new_page()
    sign_in(page, "dave", PASSWORD)
    for path, heading in (("/communications/channels/", "Outbound channels"), ("/communications/outbound/", "Outbound posts"),
                          (f"/communications/outbound/{blocked.pk}/", f"Post #{blocked.pk}"),
                          ("/communications/listening/", "Listening"), ("/communications/flags/", "Data-loss flags"),
                          ("/communications/audit/", "Audit trail"),
                          (f"/communications/channels/{channel.pk}/", "Edit channel"),
                          (f"/communications/policies/{policy.pk}/", "Edit policy")):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        assert_accessible(page)

    # Bob, an agent, turns what was heard into a ticket.
    agent = new_page()
    sign_in(agent, "bob", PASSWORD)
    agent.get_by_role("navigation", name="Main").get_by_text("Manage", exact=True).click()
    agent.get_by_role("navigation", name="Main").get_by_role("link", name="Listening").click()
    expect(agent.get_by_role("heading", level=1)).to_have_text("Listening")
    assert_accessible(agent)
    agent.get_by_role("button", name="Make a ticket of item").first.click()
    expect(agent.get_by_role("heading", level=1)).to_contain_text("Heard: The portal is awful today")
    expect(agent.get_by_role("link", name="Mentions")).to_have_attribute("href", "https://social.example/1")

    # Alice picks the channel where she hears of her tickets.
    person = new_page()
    sign_in(person, "alice", PASSWORD)
    person.goto("/account/notifications/")
    person.get_by_label("Tell me about my tickets on").select_option(label="Team e-mail")
    person.get_by_role("button", name="Save channel").click()
    expect(person.get_by_role("status").filter(has_text="Updates on your tickets will be sent to Team e-mail")).to_be_visible()
    assert_accessible(person)


def test_the_demo_status_channel_announces_stripped_incidents_and_a_second_admin_approves_posts(alice, dave, make_user, new_page):
    """With the demo's channel and policies: a major public incident reaches the status RSS without
    its title; Dave's hand-written notice waits for approval, which Dave cannot give himself and
    Frank, another admin, gives."""
    from accounts.models import Role
    from policies import demo

    off_thread(demo.seed, admin=dave)
    off_thread(make_user, "frank", role=Role.ADMIN, display_name="Frank Weber")
    incident = off_thread(ticket_services.ticket_create, actor=alice, kind="incident", title="Payroll portal down for everyone",
                          impact=1, urgency=1, visibility="public")

    page = new_page()
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, "dave", PASSWORD)
    rss = page.request.get("/status/public-status/rss/").text()
    assert f"Service update on {incident.number}: major incident opened." in rss
    assert "Payroll" not in rss and "down" not in rss

    page.goto("/communications/outbound/")
    page.get_by_label("Channel").select_option(label="Public status")
    page.get_by_label("Message").fill("E-mail maintenance on Saturday from 08:00 to 10:00 UTC; no action needed.")
    page.get_by_role("button", name="Post").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Waiting for review")
    expect(page.get_by_text("You wrote this post, so another reviewer approves it")).to_be_in_viewport()
    decision = page.get_by_role("region", name="Decision")
    expect(decision).to_contain_text("A reviewer must approve posts on this channel (Public hand-written posts).")
    expect(decision).to_contain_text("Policies applied: Public hand-written posts")
    expect(decision).to_contain_text("Skipped as out of scope: Public incident notices")
    expect(decision.get_by_role("button", name=re.compile("^Approve"))).to_have_count(0)
    expect(decision.get_by_role("button", name=re.compile("^Withdraw"))).to_have_count(1)
    page.screenshot(path="/tmp/h14-own-post.png")
    assert_accessible(page)
    post = OutboundPost.objects.get(event="manual_post")
    with pytest.raises(Exception) as refused:
        off_thread(services.outbound_approve, actor=dave, post=post)
    assert getattr(refused.value, "status", None) == 403

    reviewer = new_page()
    reviewer.set_viewport_size({"width": 1280, "height": 800})
    sign_in(reviewer, "frank", PASSWORD)
    reviewer.goto("/communications/review/")
    item = reviewer.locator(f"#post-{post.pk}")
    expect(item).to_contain_text("E-mail maintenance on Saturday")
    approve = item.get_by_role("button", name=f"Approve post #{post.pk}")
    expect(approve).to_be_in_viewport()
    reviewer.screenshot(path="/tmp/h14-review.png")
    assert_accessible(reviewer)
    approve.click()
    expect(reviewer.get_by_role("status").filter(has_text=f"Post #{post.pk} approved")).to_be_visible()
    post.refresh_from_db()
    assert post.reviewed_by.username == "frank" and not post.self_approved
    assert off_thread(services.outbound_deliver, post_id=post.pk) == "sent"
    assert "E-mail maintenance on Saturday" in reviewer.request.get("/status/public-status/rss/").text()
