"""A community's question list as its members read it: counts beside each title, tabs that sort,
tags that filter; at desktop and phone sizes, without sideways scrolling."""
import os

import pytest
from playwright.sync_api import expect

from communities import services
from tests.browser.conftest import assert_accessible, off_thread, sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("SCREENSHOT_DIR")


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 800}, {"width": 390, "height": 844}], ids=["desktop", "phone"])
def test_questions_sorted_and_filtered_by_tag(alice, bob, erin, new_page, viewport):
    community = off_thread(services.community_create, actor=bob, name="Remote work", slug="remote")
    for person in (alice, erin):
        off_thread(services.community_join, actor=person, community=community)
    router = off_thread(services.question_ask, actor=erin, community=community, title="Can I use my own router at home?",
                        tags="home-office, wifi")
    headset = off_thread(services.question_ask, actor=erin, community=community, title="Headset microphone too quiet",
                         tags=["audio"])
    answer = off_thread(services.answer_post, actor=bob, question=headset, body="Raise the input level in Settings.")
    off_thread(services.answer_vote, actor=alice, answer=answer, value=1)
    off_thread(services.answer_post, actor=alice, question=router, body="Yes, with WPA3.")

    page = new_page()
    page.set_viewport_size(viewport)
    sign_in(page, "alice", PASSWORD)
    page.goto("/communities/remote/")
    questions = page.locator(".question-list .question-title")
    expect(questions.first).to_have_text("Can I use my own router at home?")  # latest activity first
    expect(page.locator(".question-row").first).to_contain_text("1 answer")
    assert_accessible(page)

    page.get_by_role("link", name="Top", exact=True).click()
    expect(questions.first).to_have_text("Headset microphone too quiet")
    expect(page.locator(".question-row").first).to_contain_text("1 vote")
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/questions-{viewport['width']}.png")

    page.locator(".question-list").get_by_role("link", name="wifi").click()
    expect(page.get_by_role("status").filter(has_text="Questions tagged wifi")).to_be_visible()
    expect(questions).to_have_count(1)
    expect(questions.first).to_have_text("Can I use my own router at home?")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert_accessible(page)
