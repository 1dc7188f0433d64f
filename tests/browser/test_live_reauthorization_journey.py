import time

import pytest
from playwright.sync_api import expect

from accounts import services as accounts
from tests.browser.conftest import assert_accessible, off_thread, record_sockets, sign_in
from tests.conftest import PASSWORD
from tickets import services as tickets

pytestmark = pytest.mark.browser


def test_alice_is_told_she_was_signed_out_when_her_account_is_deactivated_and_the_page_stops_retrying(alice, dave, new_page):
    page = new_page()
    sockets = record_sockets(page)
    sign_in(page, "alice", PASSWORD)
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "live")

    off_thread(accounts.user_deactivate, actor=dave, user=alice)
    notice = page.locator("#toasts .toast[data-kind='live.notice']")
    expect(notice).to_contain_text("You were signed out", timeout=10_000)
    expect(notice.get_by_role("link", name="Sign in")).to_be_visible()
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "offline")
    opened = sum(1 for e in sockets if " open " in e)
    time.sleep(3)  # a retrying client would have opened another socket by now
    assert sum(1 for e in sockets if " open " in e) == opened, sockets
    expect(notice).to_be_visible()  # it stays until dismissed
    assert_accessible(page)


def test_erin_is_told_when_a_ticket_she_watches_turns_private(alice, bob, erin, new_page):
    ticket = off_thread(tickets.ticket_create, actor=alice, kind="incident", title="Wifi down on floor 3", visibility="public")
    page = new_page()
    sockets = record_sockets(page)
    sign_in(page, "erin", PASSWORD)
    page.goto(ticket.get_absolute_url())
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "live")
    deadline = time.monotonic() + 10
    while not any(f"ticket:{ticket.pk}" in e and "subscribed" in e for e in sockets) and time.monotonic() < deadline:
        page.wait_for_timeout(100)

    off_thread(tickets.ticket_update, actor=bob, ticket=ticket, visibility="private")
    notice = page.locator("#toasts .toast[data-kind='live.notice']")
    expect(notice).to_contain_text("You no longer have access", timeout=10_000)
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "live")
    assert_accessible(page)
