"""Ticket journeys in a real browser against a real server: the portal, the live queue driven from
the keyboard, live conversations, "me too", and axe-core on every page on the way."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, off_thread, sign_in
from tests.conftest import PASSWORD
from tickets import services
from tickets.models import Deflection, Kind, Ticket, Visibility

pytestmark = pytest.mark.browser

LIVE = 10_000  # ms: how long a live update may take to show up


def test_alice_logs_an_incident_and_bob_triages_it_live_from_the_keyboard(alice, bob, erin, new_page):
    off_thread(
        services.ticket_create, actor=erin, kind=Kind.INCIDENT, title="Printer on floor 3 jams paper",
        visibility=Visibility.PUBLIC, impact=2, urgency=2,
    )

    # Bob has his open queue in front of him.
    queue = new_page()
    sign_in(queue, "bob", PASSWORD)
    queue.goto("/queue/?sort=-id")  # newest first: the new ticket lands on top
    expect(queue.locator("#queue-live")).to_have_attribute("data-live-subscribed", "true", timeout=LIVE)
    rows = queue.locator("tr.queue-row")
    expect(rows).to_have_count(1)
    assert_accessible(queue)
    queue.keyboard.press("?")
    dialog = queue.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    assert_accessible(queue)
    queue.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # Alice describes her problem; the portal shows the matching public incident as she types.
    portal = new_page()
    sign_in(portal, "alice", PASSWORD)
    portal.goto("/portal/")
    portal.get_by_label("Summary").press_sequentially("Printer jams on floor 3", delay=20)
    suggestions = portal.locator("#suggestions")
    expect(suggestions.get_by_role("link", name=re.compile("Printer on floor 3 jams paper"))).to_be_visible()
    expect(portal.locator('input[name="suggestions_shown"]')).to_have_value("1")
    assert_accessible(portal)

    # It is not quite hers: she logs her own.
    portal.get_by_label("Details").fill("Every second page comes out crumpled.")
    portal.get_by_label("A team: me and the people I work with").check()
    portal.get_by_label("Work is slowed down: it is getting in the way").check()
    portal.get_by_role("button", name="Log it").click()
    portal.wait_for_url(re.compile(r"/tickets/\d+/$"))
    ticket = Ticket.objects.get(requester=alice)
    expect(portal.get_by_role("heading", level=1)).to_have_text("Printer jams on floor 3")
    expect(portal.get_by_role("status").filter(has_text="is logged")).to_be_visible()
    assert Deflection.objects.filter(outcome="logged", ticket=ticket).exists()

    # Bob's queue shows it without a reload, announced and highlighted.
    expect(rows).to_have_count(2, timeout=LIVE)
    expect(rows.first).to_contain_text("Printer jams on floor 3")
    expect(queue.locator("#queue-status")).to_have_text("1 new ticket")

    # j / k move between rows; "a" assigns the current one to him.
    queue.keyboard.press("j")
    expect(rows.first).to_have_attribute("aria-current", "true")
    expect(rows.first).to_be_focused()
    queue.keyboard.press("j")
    expect(rows.nth(1)).to_have_attribute("aria-current", "true")
    queue.keyboard.press("k")
    expect(rows.first).to_have_attribute("aria-current", "true")
    expect(rows.nth(1)).not_to_have_attribute("aria-current", "true")
    queue.keyboard.press("x")
    expect(rows.first.get_by_role("checkbox")).to_be_checked()
    expect(queue.locator("#selection-count")).to_have_text("1 selected")
    queue.keyboard.press("a")
    expect(rows.first.locator(".assignee-cell")).to_have_text("Bob Okafor", timeout=LIVE)
    # The refreshed table kept his place and his selection.
    expect(rows.first).to_have_attribute("aria-current", "true")
    expect(rows.first.get_by_role("checkbox")).to_be_checked()

    # Alice is on her ticket page, half-way through writing something.
    conversation = portal.locator("#conversation-section")
    expect(conversation).to_have_attribute("data-live-subscribed", "true", timeout=LIVE)
    expect(portal.locator("#ticket-facts")).to_contain_text("Bob Okafor", timeout=LIVE)
    portal.locator("#reply-body").fill("Also: the tray light blinks orange")
    assert_accessible(portal)

    # "r" opens the ticket with the cursor in the reply box; Bob answers.
    queue.keyboard.press("r")
    queue.wait_for_url(re.compile(rf"/tickets/{ticket.pk}/#reply$"))
    expect(queue.locator("#reply-body")).to_be_focused()
    expect(queue.get_by_role("heading", name="About the requester")).to_be_visible()
    assert_accessible(queue)
    queue.keyboard.type("I am on my way with a new fuser unit.")
    queue.get_by_role("button", name="Send reply").click()
    expect(queue.locator("#conversation")).to_contain_text("new fuser unit")

    # Alice sees the reply arrive, announced, and keeps her draft.
    expect(portal.locator("#conversation")).to_contain_text("I am on my way with a new fuser unit.", timeout=LIVE)
    expect(portal.locator("#conversation-status")).to_have_text("New reply")
    expect(portal.locator("#reply-body")).to_have_value("Also: the tray light blinks orange")
    assert_accessible(portal)


def test_bobs_triage_controls_follow_changes_made_elsewhere_unless_he_is_using_them(alice, bob, make_user, new_page):
    from accounts.models import Role

    gina = make_user("gina", role=Role.AGENT, display_name="Gina Rossi")
    ticket = off_thread(
        services.ticket_create, actor=alice, kind=Kind.INCIDENT, title="Docking station flickers",
        visibility=Visibility.PUBLIC, impact=3, urgency=3,
    )
    page = new_page()
    sign_in(page, "bob", PASSWORD)
    page.goto(ticket.get_absolute_url())
    expect(page.locator("#conversation-section")).to_have_attribute("data-live-subscribed", "true", timeout=LIVE)

    # Gina picks it up while Bob looks at it: his controls show where it is now.
    off_thread(services.ticket_update, actor=gina, ticket=ticket, status="in_progress", assignee=gina)
    expect(page.locator("#update_status")).to_have_value("in_progress", timeout=LIVE)
    expect(page.locator("#update_assignee")).to_have_value("gina")
    expect(page.locator("#update_status option[value=resolved]")).to_have_count(1)
    assert_accessible(page)

    # Bob is choosing a priority when Gina sets another: his choice stays, and he is told.
    page.locator("#update_priority").select_option("1")
    assert Ticket.objects.get(pk=ticket.pk).priority == 4
    off_thread(services.ticket_update, actor=gina, ticket=Ticket.objects.get(pk=ticket.pk), priority=2)
    expect(page.locator("#ticket-badges")).to_contain_text("High", timeout=LIVE)
    expect(page.locator("#controls-stale")).to_contain_text("changed while you were editing")
    expect(page.locator("#update_priority")).to_have_value("1")
    assert_accessible(page)


def test_erin_says_me_too_and_sees_a_reply_live(alice, bob, erin, new_page):
    ticket = off_thread(
        services.ticket_create, actor=alice, kind=Kind.INCIDENT, title="Wi-Fi in building B keeps dropping",
        description="Since this morning, every few minutes.", visibility=Visibility.PUBLIC,
    )
    page = new_page()
    sign_in(page, "erin", PASSWORD)
    page.goto(ticket.get_absolute_url())
    expect(page.get_by_role("heading", level=1)).to_have_text("Wi-Fi in building B keeps dropping")
    expect(page.locator("#me-too-count")).to_have_text("0 also affected")
    assert_accessible(page)

    page.get_by_role("button", name="Me too").click()
    expect(page.locator("#me-too-count")).to_have_text("1 also affected")
    expect(page.get_by_text("You are affected too", exact=True)).to_be_visible()
    expect(page.locator("#action-status")).to_contain_text("you are affected too")
    expect(page.get_by_role("button", name="Unfollow")).to_be_visible()
    assert ticket.me_toos.filter(user=erin).exists()
    assert_accessible(page)

    expect(page.locator("#conversation-section")).to_have_attribute("data-live-subscribed", "true", timeout=LIVE)
    off_thread(services.comment_add, actor=bob, ticket=ticket, body="We are replacing the access point on floor 2.")
    expect(page.locator("#conversation")).to_contain_text("replacing the access point", timeout=LIVE)
    expect(page.locator("#conversation-status")).to_have_text("New reply")
    expect(page.locator("#conversation .comment")).to_have_count(1)
    assert_accessible(page)


def test_my_tickets_and_search_are_accessible(alice, new_page):
    for title in ("Laptop fan is loud", "Need access to the finance share"):
        off_thread(services.ticket_create, actor=alice, kind=Kind.INCIDENT, title=title)
    page = new_page()
    sign_in(page, "alice", PASSWORD)
    page.get_by_role("link", name="My tickets").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My tickets")
    expect(page.locator("table tbody tr")).to_have_count(2)
    assert_accessible(page)

    page.get_by_role("searchbox", name="Search tickets").fill("fan")
    page.get_by_role("searchbox", name="Search tickets").press("Enter")
    expect(page.get_by_role("heading", name=re.compile("Results for"))).to_be_visible()
    expect(page.locator("table tbody tr")).to_have_count(1)
    expect(page.locator("table")).to_contain_text("Laptop fan is loud")
    assert_accessible(page)
