"""A community journey in a real browser against a real server: a question asked, answered,
voted and accepted (live on the other open pages, where the accepted answer moves to the top) and
promoted to a knowledge article, which the portal then suggests to someone about to log the same
problem; a moderator removing a member who then stays out; axe-core on every page on the way."""
import re

import pytest
from playwright.sync_api import expect

from communities import services
from communities.models import Article, Question
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

    # Alice answers first, and Bob finds her answer useful: Erin's open page follows the vote, and
    # with it the list of answers, in place.
    question = Question.objects.get()
    off_thread(services.community_join, actor=alice, community=question.community)
    first = off_thread(services.answer_post, actor=alice, question=question, body="Restart the router.")
    off_thread(services.answer_vote, actor=bob, answer=first, value=1)
    expect(asker.locator(".answer")).to_have_count(1, timeout=10_000)

    # Bob answers; Erin's open page says so without moving anything.
    helper = new_page()
    sign_in(helper, "bob", PASSWORD)
    helper.goto(question_url)
    helper.get_by_label("Your answer").fill("Turn off *power saving* on the Wi-Fi adapter, then reconnect the VPN client.")
    helper.get_by_role("button", name="Post answer").click()
    expect(helper.locator(".answer")).to_have_count(2)
    assert_accessible(helper)
    expect(helper.locator("#answers-live")).to_have_attribute("data-live-subscribed", "true", timeout=10_000)
    helper.evaluate("window.__stillHere = true")
    # Bob starts a second answer; whatever changes above must not take his typing away.
    draft = helper.get_by_label("Your answer")
    draft.fill("Also check the router's firmware")

    asker.get_by_role("button", name=re.compile(r"new updates? on this question — show")).click()

    # A second page of Erin's stays open, to follow her acceptance from the first.
    second = new_page()
    sign_in(second, "erin", PASSWORD)
    second.goto(question_url)
    expect(second.get_by_role("button", name="Accept this answer")).to_have_count(2)
    expect(second.locator("#answers-live")).to_have_attribute("data-live-subscribed", "true", timeout=10_000)
    second.evaluate("window.__stillHere = true")
    # There she starts a comment on Alice's answer: the list must not move while she types in it.
    comment = second.locator(".answer").filter(has_text="Restart the router").get_by_label("Comment on this answer")
    comment.fill("Thanks, trying it")

    # Erin votes Bob's answer up (a tie: Alice's, older, stays first), accepts it and makes it an article.
    answer = asker.locator(".answer").filter(has_text="power saving")
    answer.get_by_role("button", name="Vote up: this answer helps").click()
    expect(answer.locator(".vote-score")).to_have_text("1")
    expect(answer.get_by_role("status")).to_have_text("You voted up")
    expect(asker.locator(".answer").first).to_contain_text("Restart the router")
    answer.get_by_role("button", name="Accept this answer").click()
    expect(asker.get_by_text("Accepted answer")).to_be_visible()
    expect(asker.locator(".answer").first).to_contain_text("power saving")
    assert_accessible(asker)

    # Bob's open page follows the vote and the acceptance in place, without a reload: his answer
    # moves to the top, marked, and it is said politely; his draft is untouched.
    answered = helper.locator(".answer").first
    expect(answered).to_contain_text("power saving", timeout=10_000)
    expect(answered.locator(".vote-score")).to_have_text("1")
    expect(answered.get_by_text("Accepted answer")).to_be_visible()
    expect(answered).to_have_class(re.compile(r"\bis-accepted\b"))
    expect(helper.locator("#question-live")).to_contain_text("An answer was accepted: it is now shown first.")
    expect(draft).to_be_focused()
    expect(draft).to_have_value("Also check the router's firmware")
    assert helper.evaluate("window.__stillHere") is True
    assert_accessible(helper)

    # Erin's other page waits while she is typing a comment in the list, then follows once she
    # leaves it: the accepted answer on top, the only accept button left is Alice's, the comment kept.
    expect(second.locator("#answers-live")).to_have_attribute("data-held", "true", timeout=10_000)
    expect(second.locator(".answer").first).to_contain_text("Restart the router")
    expect(comment).to_be_focused()
    second.get_by_role("heading", level=1).click()
    expect(second.locator(".answer").first).to_contain_text("power saving", timeout=10_000)
    expect(comment).to_have_value("Thanks, trying it")
    expect(second.get_by_role("button", name="Accept this answer")).to_have_count(1)
    expect(second.locator(".answer").filter(has_text="Restart the router").get_by_role(
        "button", name="Accept this answer")).to_be_visible()
    assert second.evaluate("window.__stillHere") is True
    assert_accessible(second)

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


def test_a_moderator_removes_a_member_who_then_stays_out(alice, bob, new_page):
    community = off_thread(services.community_create, actor=bob, name="Spreadsheets", slug="sheets")
    off_thread(services.community_join, actor=alice, community=community)

    moderator = new_page()
    sign_in(moderator, "bob", PASSWORD)
    moderator.goto("/communities/sheets/")
    moderator.get_by_role("button", name="Remove Alice Martin").click()
    expect(moderator.get_by_role("status").filter(has_text="Alice Martin is no longer a member")).to_be_visible()
    removed = moderator.get_by_role("list", name="Removed")
    expect(removed).to_contain_text("Alice Martin")
    assert_accessible(moderator)

    member = new_page()
    sign_in(member, "alice", PASSWORD)
    member.goto("/communities/sheets/")
    expect(member.get_by_role("status").filter(has_text="A moderator removed you")).to_be_visible()
    expect(member.get_by_role("button", name="Join")).to_have_count(0)
    expect(member.get_by_text("cannot write here")).to_be_visible()
    assert_accessible(member)
