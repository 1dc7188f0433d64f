import re

import pytest
from playwright.sync_api import expect

from feeds import services
from feeds.audience import Audience
from feeds.services import NotificationSpec, ObjectRef
from tests.browser.conftest import assert_accessible, off_thread, sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_alice_sees_a_notification_toast_live(alice, new_page):
    page = new_page()
    page.goto("/accounts/login/")
    assert_accessible(page)
    sign_in(page, "alice", PASSWORD)
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "live")
    expect(page.locator("#live-indicator .live-label")).to_have_text("live")
    assert_accessible(page)

    off_thread(
        services.activity_publish,
        actor=None,
        verb="announced",
        obj=ObjectRef("user", "alice", "Alice Martin"),
        audience=Audience.of(users=[alice.pk]),
        notify=[alice],
        notification=NotificationSpec(kind="announcement", text="The VPN maintenance is finished", url="/notifications/"),
    )
    toast = page.locator("#toasts .toast")
    expect(toast).to_contain_text("The VPN maintenance is finished", timeout=5_000)
    expect(page.locator("#unread-badge")).to_have_attribute("data-count", "1")
    assert_accessible(page)


def test_wrong_password_shows_an_accessible_error(alice, new_page):
    page = new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("not-it")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    assert_accessible(page)


def test_sign_in_history_and_this_wasnt_me(alice, dave, new_page):
    other = new_page()
    other.goto("/accounts/login/")
    other.get_by_label("Username").fill("alice")
    other.get_by_label("Password").fill("guess")
    other.get_by_role("button", name="Sign in").click()

    page = new_page()
    sign_in(page, "alice", PASSWORD)
    page.get_by_text("Account", exact=True).click()
    page.get_by_role("link", name="Sign-in history").click()
    expect(page.get_by_role("heading", name="Sign-in history")).to_be_visible()
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(2)
    assert_accessible(page)
    page.get_by_role("button", name=re.compile("This wasn't me")).last.click()
    expect(page.get_by_text("security team has been told")).to_be_visible()
    expect(page.get_by_text("Reported").first).to_be_visible()
    assert_accessible(page)


def test_notifications_page_mark_all_read(alice, new_page):
    for text in ("First thing", "Second thing"):
        off_thread(
            services.activity_publish,
            actor=None, verb="announced", obj=ObjectRef("user", "alice", "Alice"),
            audience=Audience.of(users=[alice.pk]), notify=[alice], notification=NotificationSpec(kind="k", text=text),
        )
    page = new_page()
    sign_in(page, "alice", PASSWORD)
    page.goto("/notifications/")
    expect(page.get_by_text("Second thing")).to_be_visible()
    expect(page.locator("#unread-badge")).to_have_attribute("data-count", "2")
    assert_accessible(page)
    page.get_by_role("button", name=re.compile("Mark all", re.I)).click()
    expect(page.locator("#unread-badge")).to_have_attribute("data-count", "0")
    assert_accessible(page)
