"""The agent's ticket page in a real browser: a canned response and an article go into a reply,
two agents on one ticket see each other typing, an incident is linked to a problem and a duplicate
merged; at 1280x800 and 390x844, with axe-core on the way."""
import re
import time

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from communities import services as communities
from communities.models import ArticleReuse
from tests.browser.conftest import assert_accessible, off_thread, sign_in
from tests.conftest import PASSWORD
from tickets import services
from tickets.models import Kind, Status, Ticket, Visibility

pytestmark = pytest.mark.browser

LIVE = 10_000  # ms
SHOTS = "/tmp/shots-ticket-workspace"


def no_sideways_scroll(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def in_first_screen(page, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    return box is not None and box["y"] < page.viewport_size["height"]


def shoot(page, name: str) -> None:
    page.screenshot(path=f"{SHOTS}/{name}.png", full_page=False)


def test_bob_answers_with_a_canned_response_and_an_article(alice, bob, make_user, new_page):
    owner = make_user()
    printers = off_thread(communities.community_create, actor=owner, name="Printers", visibility="open")
    article = off_thread(communities.article_create, actor=owner, title="Clear a printer paper jam",
                         body="Open tray 2, pull the sheet **gently**.", community=printers)
    off_thread(communities.community_join, actor=alice, community=printers)
    off_thread(services.canned_response_create, actor=bob, title="Greeting",
               body="Hi {requester.first_name}, thanks for {ticket.number}.", set_status=Status.PENDING)
    off_thread(services.canned_response_create, actor=bob, title="Sign-off", body="Bob, Service Desk")
    ticket = off_thread(services.ticket_create, actor=alice, kind=Kind.INCIDENT, title="Printer paper jam on floor 3",
                        description="Every second page jams.")

    page = new_page()
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, "bob", PASSWORD)
    page.goto(ticket.get_absolute_url())
    # What he came for is in the first screen: the ticket's state, its description, the requester.
    for selector in ("#ticket-state", "#description-title", "#social-context", "#requester-title"):
        assert in_first_screen(page, selector), selector
    expect(page.locator("#social-context")).to_contain_text("Printers")
    expect(page.locator("#knowledge")).to_contain_text("Clear a printer paper jam")
    shoot(page, "ticket-1280")
    assert_accessible(page)

    box = page.locator("#reply-body")
    page.get_by_label("Canned response", exact=True).select_option(label="Greeting")
    expect(box).to_have_value(f"Hi Alice, thanks for {ticket.number}.")
    # "/" at the start of a line opens the list; Enter takes the highlighted one.
    box.press("End")
    box.press("Enter")
    box.press_sequentially("/")
    menu = page.get_by_role("listbox", name="Canned responses")
    expect(menu).to_be_visible()
    box.press("ArrowDown")
    box.press("Enter")
    expect(box).to_have_value(f"Hi Alice, thanks for {ticket.number}.\nBob, Service Desk")
    expect(menu).to_be_hidden()
    page.get_by_role("button", name="Insert Clear a printer paper jam").click()
    expect(box).to_have_value(re.compile(r"\[Clear a printer paper jam\]\(http://[^)]+/articles/\d+/\): Open tray 2"))
    shoot(page, "reply-tools-1280")
    assert_accessible(page)
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator("#conversation")).to_contain_text("Bob, Service Desk")
    assert ArticleReuse.objects.filter(article=article, ticket=ticket).count() == 1
    assert Ticket.objects.get(pk=ticket.pk).status == Status.PENDING, "the canned response set the status"

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(ticket.get_absolute_url())
    assert no_sideways_scroll(page)
    shoot(page, "ticket-390")
    assert_accessible(page)


def test_two_agents_on_one_ticket_see_each_other_and_who_is_typing(alice, bob, make_user, new_page):
    make_user("carol", role=Role.AGENT, team=bob.team, display_name="Carol Diaz")
    ticket = off_thread(services.ticket_create, actor=alice, kind=Kind.INCIDENT, title="Mail is down")

    first = new_page()
    first.set_viewport_size({"width": 1280, "height": 800})
    sign_in(first, "bob", PASSWORD)
    first.goto(ticket.get_absolute_url())
    expect(first.locator("#presence")).to_contain_text("Only you have this ticket open.")

    second = new_page()
    second.set_viewport_size({"width": 390, "height": 844})
    sign_in(second, "carol", PASSWORD)
    second.goto(ticket.get_absolute_url())
    expect(first.locator("#presence")).to_contain_text("Also here: Carol Diaz", timeout=LIVE)
    expect(second.locator("#presence")).to_contain_text("Also here: Bob Okafor", timeout=LIVE)
    assert in_first_screen(first, "#presence")

    second.locator("#reply-body").press_sequentially("Looking at it", delay=10)
    expect(first.locator("#typing")).to_have_text("Carol Diaz is typing a reply\u2026", timeout=LIVE)
    shoot(first, "presence-1280")
    shoot(second, "presence-390")
    assert no_sideways_scroll(second)
    assert_accessible(first)

    # Bob answers meanwhile: Carol, still writing, is told before she sends.
    off_thread(services.comment_add, actor=bob, ticket=ticket, body="On it, restarting the mail relay.")
    expect(second.locator("#reply-stale")).to_contain_text("changed while you were writing", timeout=LIVE)

    second.close()
    expect(first.locator("#presence")).to_contain_text("Only you have this ticket open.", timeout=LIVE)


def test_an_agent_whose_page_scripts_load_after_the_socket_opened_is_still_seen(alice, bob, make_user, new_page):
    """The page's scripts run after live.js has opened the socket: when the ticket's tools arrive
    late, the server may have confirmed the stream already, and they must still announce."""
    make_user("carol", role=Role.AGENT, team=bob.team, display_name="Carol Diaz")
    ticket = off_thread(services.ticket_create, actor=alice, kind=Kind.INCIDENT, title="Mail is down")

    first = new_page()
    sign_in(first, "bob", PASSWORD)
    first.goto(ticket.get_absolute_url())
    expect(first.locator("#conversation-section")).to_have_attribute("data-live-subscribed", "true", timeout=LIVE)

    second = new_page()
    sign_in(second, "carol", PASSWORD)

    def late(route):
        time.sleep(1.5)  # long after the socket's handshake and subscription
        route.continue_()

    second.route("**/js/ticket-tools.js", late)
    second.goto(ticket.get_absolute_url())
    expect(second.locator("#conversation-section")).to_have_attribute("data-live-subscribed", "true", timeout=LIVE)
    expect(first.locator("#presence")).to_contain_text("Also here: Carol Diaz", timeout=LIVE)
    expect(second.locator("#presence")).to_contain_text("Also here: Bob Okafor", timeout=LIVE)


def test_bob_links_an_incident_to_a_problem_and_merges_a_duplicate(alice, bob, erin, new_page):
    problem = off_thread(services.ticket_create, actor=bob, kind=Kind.PROBLEM, title="Wi-Fi controller firmware")
    incident = off_thread(services.ticket_create, actor=alice, kind=Kind.INCIDENT, title="Wi-Fi drops on floor 2",
                          visibility=Visibility.PUBLIC)
    duplicate = off_thread(services.ticket_create, actor=erin, kind=Kind.INCIDENT, title="No Wi-Fi floor 2",
                           visibility=Visibility.PUBLIC)
    private = off_thread(services.ticket_create, actor=erin, kind=Kind.INCIDENT, title="Wi-Fi password for my laptop")

    page = new_page()
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, "bob", PASSWORD)
    page.goto(incident.get_absolute_url())
    links = page.locator("#links")
    links.get_by_label("Link to a problem").press_sequentially("controller firmware", delay=10)
    links.get_by_role("button", name=re.compile("Wi-Fi controller firmware")).click()
    expect(links.get_by_label("Link to a problem")).to_have_value(problem.number)
    assert_accessible(page)
    links.get_by_role("button", name="Link", exact=True).click()
    expect(page.locator("#links")).to_contain_text(problem.number)
    assert Ticket.objects.get(pk=incident.pk).problem_id == problem.pk

    page.goto(problem.get_absolute_url())
    expect(page.locator("#incidents")).to_contain_text(incident.number)

    # A private ticket is not merged into a public one: the page says why.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(private.get_absolute_url())
    page.locator("#links").get_by_label("Merge this ticket into").fill(incident.number)
    page.locator("#links").get_by_role("button", name="Merge").click()
    expect(page.locator("#tool-error")).to_contain_text("same visibility")
    assert no_sideways_scroll(page)
    assert Ticket.objects.get(pk=private.pk).merged_into_id is None

    page.goto(duplicate.get_absolute_url())
    page.locator("#links").get_by_label("Merge this ticket into").press_sequentially("Wi-Fi drops", delay=10)
    page.locator("#merge-results").get_by_role("button", name=re.compile("Wi-Fi drops on floor 2")).click()
    page.locator("#links").get_by_role("button", name="Merge").click()
    page.wait_for_url(f"**{incident.get_absolute_url()}")
    expect(page.locator("#links")).to_contain_text("Duplicates merged here")
    expect(page.locator("#conversation")).to_contain_text(f"Merged {duplicate.number}")
    assert no_sideways_scroll(page)
    shoot(page, "merged-390")
    assert_accessible(page)
    assert Ticket.objects.get(pk=duplicate.pk).status == Status.CLOSED
