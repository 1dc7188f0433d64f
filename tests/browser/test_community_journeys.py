"""A community journey in a real browser against a real server: a question asked, answered,
voted and accepted (live on the answerer's open page) and promoted to a knowledge article, which the portal then suggests to someone about to
log the same problem; axe-core on every page on the way."""
import re

import pytest
from playwright.sync_api import expect

from communities import services
from communities.models import Article
from tests.browser.conftest import assert_accessible, off_thread, sign_in
from tests.conftest import PASSWORD
from tickets.models import Deflection

pytestmark = pytest.mark.browser


def test_an_answer_becomes_knowledge_that_the_portal_suggests(alice, bob, erin, new_page):
    off_thread(services.community_create, actor=bob, name="Remote work", slug="remote",
               description="Working from home: VPN, Wi-Fi, headsets.")

    # Erin finds the community, joins and asks.
    asker = new_page()
    sign_in(asker, "erin", PASSWORD)
    asker.get_by_role("navigation", name="Main").get_by_role("link", name="Communities").click()
    asker.wait_for_url("**/communities/")
    assert_accessible(asker)
    asker.get_by_role("link", name="Remote work").click()
    asker.wait_for_url("**/communities/remote/")
    asker.get_by_role("button", name="Join").click()
    expect(asker.get_by_role("status").filter(has_text="Welcome to Remote work")).to_be_visible()
    assert_accessible(asker)
    asker.get_by_role("link", name="Ask a question").click()
    asker.wait_for_url("**/communities/remote/ask/")
    asker.get_by_role("button", name="Post question").click()  # nothing typed: the error is tied to the field
    expect(asker.get_by_role("textbox", name="Your question")).to_have_attribute("aria-invalid", "true")
    assert_accessible(asker)
    asker.get_by_role("textbox", name="Your question").fill("VPN disconnects every few minutes at home")
    asker.get_by_label("Details").fill("Since Monday, on the home Wi-Fi only.")
    asker.get_by_role("button", name="Post question").click()
    asker.wait_for_url(re.compile(r"/questions/\d+/$"))
    expect(asker.get_by_role("heading", level=1)).to_have_text("VPN disconnects every few minutes at home")
    assert_accessible(asker)
    question_url = asker.url
    expect(asker.locator("#question-live")).to_have_attribute("data-live-subscribed", "true", timeout=10_000)

    # Bob answers; Erin's open page says so without moving anything.
    helper = new_page()
    sign_in(helper, "bob", PASSWORD)
    helper.goto(question_url)
    helper.get_by_label("Your answer").fill("Turn off *power saving* on the Wi-Fi adapter, then reconnect the VPN client.")
    helper.get_by_role("button", name="Post answer").click()
    expect(helper.locator(".answer")).to_have_count(1)
    assert_accessible(helper)
    expect(helper.locator("#answer-scores")).to_have_attribute("data-live-subscribed", "true", timeout=10_000)
    helper.evaluate("window.__stillHere = true")

    asker.get_by_role("button", name="1 new update on this question — show").click()

    # Erin votes it up, accepts it and makes it an article.
    answer = asker.locator(".answer").first
    answer.get_by_role("button", name="Vote up: this answer helps").click()
    expect(answer.locator(".vote-score")).to_have_text("1")
    expect(answer.get_by_role("status")).to_have_text("You voted up")
    answer.get_by_role("button", name="Accept this answer").click()
    expect(asker.get_by_text("Accepted answer")).to_be_visible()
    assert_accessible(asker)

    # Bob's open page follows the vote and the acceptance in place, without a reload.
    answered = helper.locator(".answer").first
    expect(answered.locator(".vote-score")).to_have_text("1", timeout=10_000)
    expect(answered.get_by_text("Accepted answer")).to_be_visible(timeout=10_000)
    expect(answered).to_have_class(re.compile(r"\bis-accepted\b"))
    assert helper.evaluate("window.__stillHere") is True
    assert_accessible(helper)
    asker.get_by_role("button", name="Make it a knowledge article").click()
    asker.wait_for_url(re.compile(r"/articles/\d+/$"))
    expect(asker.get_by_role("heading", level=1)).to_have_text("VPN disconnects every few minutes at home")
    expect(asker.get_by_text("By Bob Okafor")).to_be_visible()
    assert_accessible(asker)
    article = Article.objects.get()

    # Alice starts typing the same problem on the portal: the article is suggested.
    portal = new_page()
    sign_in(portal, "alice", PASSWORD)
    portal.goto("/portal/")
    portal.get_by_label("Summary").press_sequentially("My VPN disconnects all the time", delay=20)
    suggestion = portal.locator("#suggestions").get_by_role("link", name="VPN disconnects every few minutes at home")
    expect(suggestion).to_be_visible()
    assert_accessible(portal)
    suggestion.click()
    portal.wait_for_url(re.compile(rf"/articles/{article.pk}/\?from=portal$"))
    expect(portal.get_by_text("Did this solve it?")).to_be_visible()
    portal.get_by_role("button", name="Yes, it helped").click()
    expect(portal.locator("#helpful")).to_contain_text("Thank you for saying so")
    assert_accessible(portal)
    opened = Deflection.objects.get(suggestion_type="article")
    assert (opened.outcome, opened.user, opened.suggestion_key) == ("opened", alice, str(article.pk))


def test_a_moderator_compares_revisions_and_runs_the_community(alice, bob, erin, new_page):
    from datetime import timedelta

    from django.utils import timezone

    community = off_thread(services.community_create, actor=bob, name="Printing", slug="printing", visibility="private")
    off_thread(services.community_join, actor=alice, community=community)  # asks to join
    off_thread(services.idea_create, actor=bob, community=community, title="Follow-me printing on every floor")
    off_thread(services.poll_create, actor=bob, community=community, question="Which floor first?", options=["2", "3"],
               closes_at=timezone.now() + timedelta(days=3))
    article = off_thread(services.article_create, actor=bob, title="Clear a paper jam", body="Open tray 2\nPull the sheet\n",
                         community=community)
    off_thread(services.article_edit, actor=bob, article=article, body="Switch the printer off\nOpen tray 2\nPull the sheet gently\n")

    page = new_page()
    sign_in(page, "bob", PASSWORD)
    page.goto("/communities/printing/")
    expect(page.get_by_role("heading", name="Requests to join")).to_be_visible()
    page.get_by_role("listitem").filter(has_text="Alice Martin").get_by_role("button", name="Approve Alice Martin").click()
    expect(page.get_by_role("status").filter(has_text="Alice Martin joined")).to_be_visible()
    page.get_by_label("2", exact=True).check()
    page.get_by_role("button", name="Vote", exact=True).click()
    expect(page.get_by_text("2 (your vote)")).to_be_visible()
    assert_accessible(page)

    page.goto(article.get_absolute_url())
    page.get_by_label("From revision").select_option("1")
    page.get_by_label("To revision").select_option("2")
    page.get_by_role("button", name="Show differences").click()
    diff = page.locator("#diff table")
    expect(diff.locator("td.add").first).to_contain_text("Switch the printer off")
    expect(diff.locator("td.del")).to_contain_text(["Pull the sheet"])
    assert_accessible(page)
    page.get_by_role("button", name="Restore revision 1").click()
    expect(page.get_by_role("status").filter(has_text="Revision 1 is back, as revision 3")).to_be_visible()
    assert_accessible(page)
