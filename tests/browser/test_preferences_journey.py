import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_alice_sets_quiet_hours_and_gets_a_feed_link(alice, new_page):
    page = new_page()
    sign_in(page, "alice", PASSWORD)
    page.get_by_text("Account", exact=True).click()
    page.get_by_role("link", name="Notification settings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notification settings")
    assert_accessible(page)
    page.get_by_label("Likes of my posts: by e-mail").check()
    page.get_by_label("Quiet from").fill("22:00")
    page.get_by_label("Quiet until").fill("07:00")
    page.get_by_label("Your time zone").select_option("Europe/Paris")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Your notification settings are saved.")).to_be_visible()
    expect(page.get_by_label("Likes of my posts: by e-mail")).to_be_checked()
    page.get_by_role("button", name="Create a feed link").click()
    expect(page.locator("#new-feed-link")).to_contain_text("/rss/")
    assert_accessible(page)
