"""The agent's queue as a workspace, in Chromium against a real server: tickets first at desk and
phone widths, filters that apply as they change (with an address to share), views whose counts
follow live changes, the bulk bar while rows are selected, and axe-core on the way."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, off_thread, sign_in
from tests.conftest import PASSWORD
from tickets import services
from tickets.models import Kind

pytestmark = pytest.mark.browser

LIVE = 10_000  # ms: how long a live update may take to show up
LONG_TITLE = "Laptop fan screams through every video call with the whole finance team, even when idle"


def log(requester, title, **extra):
    extra.setdefault("impact", 2)
    extra.setdefault("urgency", 2)
    return off_thread(services.ticket_create, actor=requester, kind=Kind.INCIDENT, title=title, **extra)


def first_row_fits(page, height: int) -> None:
    box = page.locator("tr.queue-row").first.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height, box


def test_an_agent_works_the_queue_at_desk_and_phone_width(alice, erin, bob, new_page):
    log(alice, LONG_TITLE)
    badge = log(erin, "Badge reader on the fourth floor refuses my card", impact=1, urgency=1)
    off_thread(services.ticket_update, actor=bob, ticket=badge, assignee=bob)

    page = new_page()
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, "bob", PASSWORD)
    page.goto("/queue/")
    rows = page.locator("tr.queue-row")
    views = page.get_by_role("navigation", name="Queue views")

    # Tickets first: the first row is on screen, titles whole, the next SLA due on top.
    expect(rows).to_have_count(2)
    first_row_fits(page, 800)
    expect(rows.first).to_contain_text("Badge reader")  # priority 1: due first
    expect(page.get_by_role("link", name=LONG_TITLE)).to_be_visible()
    expect(views.get_by_role("link", name=re.compile(r"^All open 2\b"))).to_have_attribute("aria-current", "page")
    expect(views.get_by_role("link", name=re.compile(r"^My open 1\b"))).to_be_visible()
    assert_accessible(page)

    # A filter applies as it is chosen: no button, and the address says what is shown.
    page.get_by_label("Assignee").select_option("me")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Badge reader")
    expect(page).to_have_url(re.compile(r"/queue/\?(.*&)?assignee=me"))
    expect(views.get_by_role("link", name=re.compile(r"^My open"))).to_have_attribute("aria-current", "page")
    assert page.get_by_role("button", name=re.compile("apply", re.I)).count() == 0

    # Someone logs a ticket: the counts follow, the filtered rows stay as they are.
    expect(page.locator("#queue-live")).to_have_attribute("data-live-subscribed", "true", timeout=LIVE)
    log(alice, "Printer toner smudges every page")
    expect(views.get_by_role("link", name=re.compile(r"^All open 3\b"))).to_be_visible(timeout=LIVE)
    expect(rows).to_have_count(1)

    # The bulk bar appears with a selection and goes with it.
    bar = page.get_by_role("form", name="Change the selected tickets")
    expect(bar).to_be_hidden()
    page.keyboard.press("j")
    page.keyboard.press("x")
    expect(bar).to_be_visible()
    expect(page.locator("#selection-count")).to_have_text("1 selected")
    assert_accessible(page)
    page.keyboard.press("Escape")
    expect(bar).to_be_hidden()

    # The shared address opens the same view.
    shared = page.url
    phone = new_page()
    phone.set_viewport_size({"width": 390, "height": 844})
    sign_in(phone, "bob", PASSWORD)
    phone.goto(shared)
    expect(phone.locator("tr.queue-row")).to_have_count(1)

    # On a phone: rows are cards, the first one on screen, nothing scrolls sideways.
    phone.goto("/queue/")
    cards = phone.locator("tr.queue-row")
    expect(cards).to_have_count(3)
    first_row_fits(phone, 844)
    assert phone.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    assert phone.evaluate("getComputedStyle(document.querySelector('tr.queue-row')).display") == "grid"
    phone.get_by_label("Priority").select_option("1")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("Badge reader")
    assert phone.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    assert_accessible(phone)
