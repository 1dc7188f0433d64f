"""Everyday surfaces in a real browser, per role, at 1280x800 and 390x844: each home starts the
work above the fold; notifications clear live in every tab when what they point to is opened;
the rating form arrives live when the ticket is resolved; @mentions in an answer's comment list
members only; suggested assignees set the assignee select; under 700 px the header folds behind
one Menu button and no page of an end user and community member scrolls sideways. axe-core on
every page on the way."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from communities import services as communities
from feeds import services as feeds
from tests.browser.conftest import assert_accessible, off_thread, sign_in
from tests.conftest import PASSWORD
from tickets import selectors as ticket_selectors
from tickets import services as tickets

pytestmark = pytest.mark.browser

LIVE = 5_000  # ms: how long a live update may take to show up
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def in_view(page, locator) -> bool:
    """Entirely inside the viewport without scrolling."""
    box = locator.bounding_box()
    size = page.viewport_size
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= size["height"] and box["x"] + box["width"] <= size["width"]


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} scrolls sideways ({width} px wide)"


def test_every_role_home_starts_the_work_above_the_fold(alice, bob, dave, make_user, new_page):
    carol = make_user("carol", role=Role.MANAGER, display_name="Carol Nguyen")
    mine = off_thread(tickets.ticket_create, actor=alice, kind="incident", title="Laptop will not boot", team=bob.team)
    off_thread(tickets.ticket_update, actor=bob, ticket=mine, assignee=bob)
    off_thread(tickets.ticket_create, actor=alice, kind="request", title="Second monitor", team=bob.team)
    expected = {
        "alice": ("Something not working?", "Report an issue"),
        "bob": ("My open tickets by SLA due", "Laptop will not boot"),
        "carol": ("This week", "Open the dashboard"),
        "dave": ("Awaiting review", "Review queue"),
    }
    assert carol.role == Role.MANAGER
    for username, (heading, action) in expected.items():
        for viewport in (DESKTOP, PHONE):
            page = new_page()
            page.set_viewport_size(viewport)
            sign_in(page, username, PASSWORD)
            first = page.locator("main h2").first
            expect(first).to_have_text(heading)
            target = page.get_by_role("link", name=action).first
            expect(target).to_be_visible()
            if viewport is DESKTOP:
                assert in_view(page, target), f"{username}: '{action}' needs no scrolling at 1280x800"
            no_sideways_scroll(page)
            assert_accessible(page)
            page.screenshot(path=f"/tmp/home-{username}-{viewport['width']}.png")
            page.context.close()
    page = new_page()
    page.set_viewport_size(DESKTOP)
    sign_in(page, "alice", PASSWORD)
    page.get_by_role("link", name="Report an issue").click()
    page.wait_for_url("**/portal/")


def test_opening_what_a_notification_points_to_clears_it_in_every_tab(alice, bob, make_user, new_page):
    sam = make_user("sam", role=Role.AGENT, team=bob.team, display_name="Sam Reyes")
    ticket = off_thread(tickets.ticket_create, actor=alice, kind="incident", title="VPN disconnects", visibility="public")
    other = off_thread(tickets.ticket_create, actor=alice, kind="incident", title="Mail is slow", visibility="public")
    off_thread(tickets.comment_add, actor=bob, ticket=ticket, body="Looking into it")
    off_thread(tickets.comment_add, actor=sam, ticket=ticket, body="Found the gateway")
    off_thread(tickets.comment_add, actor=bob, ticket=other, body="On it")

    tab = new_page()
    tab.set_viewport_size(DESKTOP)
    sign_in(tab, "alice", PASSWORD)
    tab.goto("/notifications/")
    row = tab.locator(".notification-row", has_text="2 replies on")
    expect(row).to_have_class("notification-row is-unread")
    expect(row).to_contain_text(f"2 replies on {ticket.number} VPN disconnects")
    expect(row.locator(".badge")).to_have_text("Reply")
    expect(tab.locator("#unread-badge")).to_have_attribute("data-count", "3")
    expect(tab.locator("#live-indicator")).to_have_attribute("data-state", "live", timeout=10_000)
    assert_accessible(tab)

    second = tab.context.new_page()
    second.goto(ticket.get_absolute_url())
    expect(second.locator("#unread-badge")).to_have_attribute("data-count", "1")

    expect(row).not_to_have_class("notification-row is-unread", timeout=LIVE)
    expect(tab.locator("#unread-badge")).to_have_attribute("data-count", "1", timeout=LIVE)
    expect(tab.locator(".notification-row.is-unread")).to_contain_text("Mail is slow")

    # A reply to the ticket on screen: shown in the conversation, no toast, read at once.
    expect(second.locator("#live-indicator")).to_have_attribute("data-state", "live", timeout=10_000)
    expect(second.locator("#conversation-section")).to_have_attribute("data-live-subscribed", "true", timeout=10_000)
    off_thread(tickets.comment_add, actor=bob, ticket=ticket, body="Fixed, please try again")
    expect(second.locator("#conversation")).to_contain_text("Fixed, please try again", timeout=LIVE)
    expect(tab.locator("#unread-badge")).to_have_attribute("data-count", "1", timeout=LIVE)
    expect(second.locator("#toasts")).not_to_contain_text("replied on")

    tab.get_by_role("button", name="Mark all as read").click()
    expect(second.locator("#unread-badge")).to_have_attribute("data-count", "0", timeout=LIVE)


def test_the_rating_form_appears_live_when_the_ticket_is_resolved(alice, bob, erin, new_page):
    ticket = off_thread(tickets.ticket_create, actor=alice, kind="incident", title="Screen flickers")
    page = new_page()
    page.set_viewport_size(PHONE)
    sign_in(page, "alice", PASSWORD)
    page.goto(ticket.get_absolute_url())
    expect(page.locator(".ticket-kicker")).to_contain_text("My tickets")
    expect(page.locator("#conversation-section")).to_have_attribute("data-live-subscribed", "true", timeout=10_000)
    expect(page.get_by_role("heading", name="Rate the resolution")).to_have_count(0)

    # @mention suggestions list people who may read this private ticket: the agent, not erin.
    reply = page.get_by_label("Your reply")
    reply.press_sequentially("Thanks @bo")
    option = page.get_by_role("option", name="Bob Okafor (@bob)")
    expect(option).to_be_visible()
    assert_accessible(page)
    reply.press("Enter")
    expect(reply).to_have_value("Thanks @bob ")
    reply.press_sequentially("and @er")
    page.wait_for_timeout(400)
    expect(page.get_by_role("option")).to_have_count(0)
    reply.fill("")

    off_thread(tickets.ticket_update, actor=bob, ticket=ticket, status="resolved")

    expect(page.get_by_role("heading", name="Rate the resolution")).to_be_visible(timeout=LIVE)
    page.get_by_label("5 · Excellent").check()
    page.get_by_role("button", name="Send rating").click()
    expect(page.get_by_role("heading", name="Rate the resolution")).to_have_count(0)
    no_sideways_scroll(page)
    assert_accessible(page)


def test_no_page_of_an_end_user_and_community_member_scrolls_sideways_on_a_phone(alice, erin, bob, new_page):
    vpn = off_thread(tickets.service_create, name="VPN", owner_team=bob.team)
    own = off_thread(tickets.ticket_create, actor=alice, kind="incident", title="A rather long title about the VPN "
                     "client that disconnects every few minutes on the train", service=vpn)
    public = off_thread(tickets.ticket_create, actor=erin, kind="incident", title="Shared drive S: is slow",
                        visibility="public", service=vpn)
    off_thread(tickets.ticket_follow, actor=alice, ticket=public)
    community = off_thread(communities.community_create, actor=erin, name="Remote work", slug="remote")
    off_thread(communities.community_join, actor=alice, community=community)
    question = off_thread(communities.question_ask, actor=alice, community=community, title="Which VPN profile?",
                          body="I see two profiles: `corp-full-tunnel-with-split-dns-fallback-profile` and another.")
    article = off_thread(communities.article_create, actor=erin, title="Reset the VPN client", body="1. Quit\n2. Start",
                         community=community, service=vpn)
    post = off_thread(feeds.post_create, actor=erin, wall_type="user", wall_key="erin", body="Who else sees #vpn drops?")

    pages = [
        "/", "/feed/", "/feed/?mine=1", "/feed/popular/", "/portal/", "/tickets/mine/", "/tickets/followed/", own.get_absolute_url(),
        public.get_absolute_url(), "/communities/", community.get_absolute_url(), f"/communities/{community.slug}/ask/",
        question.get_absolute_url(), "/articles/", article.get_absolute_url(), "/leaderboard/", "/notifications/",
        "/account/sign-ins/", "/account/notifications/", "/people/alice/", "/people/erin/", f"/services/{vpn.pk}/",
        "/tags/vpn/", f"/posts/{post.pk}/", "/search/?q=VPN",
    ]
    page = new_page()
    page.set_viewport_size(PHONE)
    sign_in(page, "alice", PASSWORD)
    for path in pages:
        response = page.goto(path)
        assert response.status == 200, path
        toggle = page.get_by_role("button", name="Menu")
        expect(toggle).to_be_visible()
        header = page.locator(".site-header").bounding_box()
        assert header["height"] < 100, f"{path}: the folded header takes {header['height']} px"
        no_sideways_scroll(page)
        assert_accessible(page)

    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Communities")).to_be_visible()
    no_sideways_scroll(page)
    assert_accessible(page)
    nav.get_by_role("link", name="Communities").click()
    page.wait_for_url("**/communities/")
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()


def test_an_answer_comment_suggests_members_and_the_ticket_page_suggests_assignees(alice, bob, erin, make_user, new_page):
    # @mentions in a one-line box: an answer's comment in a private community lists its members only.
    finance = off_thread(communities.community_create, actor=erin, name="Finance", slug="finance", visibility="private")
    invitation = off_thread(communities.invitation_create, actor=erin, community=finance, user=alice)
    off_thread(communities.invitation_decide, actor=alice, invitation_id=invitation.pk, accept=True)
    make_user("ella", display_name="Ella Outsider")
    question = off_thread(communities.question_ask, actor=erin, community=finance, title="Quarter close?")
    answer = off_thread(communities.answer_post, actor=erin, question=question, body="Friday")
    page = new_page()
    page.set_viewport_size(DESKTOP)
    sign_in(page, "alice", PASSWORD)
    page.goto(question.get_absolute_url())
    comment = page.locator(f"#comment-{answer.pk}")
    comment.press_sequentially("Thanks @e")
    expect(page.get_by_role("option", name="Erin Walsh (@erin)")).to_be_visible()
    expect(page.get_by_role("option")).to_have_count(1)
    assert_accessible(page)
    comment.press("Enter")
    expect(comment).to_have_value("Thanks @erin ")
    no_sideways_scroll(page)
    page.context.close()

    # Suggested assignees sit under the assignee select; the sidebar still opens with the requester.
    make_user("vera", role=Role.AGENT, team=bob.team, display_name="Vera Diaz", expertise_tags=["vpn"])
    ticket = off_thread(tickets.ticket_create, actor=alice, kind="incident", title="VPN drops every hour")
    page = new_page()
    page.set_viewport_size(DESKTOP)
    sign_in(page, "bob", PASSWORD)
    page.goto(ticket.get_absolute_url())
    headings = page.locator(".ticket-sidebar h2").all_inner_texts()
    assert headings[:2] == ["About the requester", "Triage"], headings
    suggestion = page.get_by_role("button", name="Set assignee to Vera Diaz")
    expect(suggestion).to_be_visible()
    expect(page.get_by_role("group", name="Suggested assignees", exact=True)).to_contain_text("Knows vpn")
    suggestion.focus()
    page.keyboard.press("Enter")
    assignee = page.get_by_label("Assignee", exact=True)
    expect(assignee).to_have_value("vera")
    expect(assignee).to_be_focused()
    expect(page.locator("#suggested-assignee-status")).to_have_text("Assignee set to Vera Diaz. Save changes to apply.")
    no_sideways_scroll(page)
    assert_accessible(page)
    page.screenshot(path="/tmp/ticket-suggested-assignees-1280.png", full_page=True)
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text(f"{ticket.number} updated.")).to_be_visible()
    assert off_thread(lambda: ticket_selectors.ticket_get(user=bob, ticket_id=ticket.pk).assignee.username) == "vera"
    expect(page.get_by_role("button", name="Set assignee to Vera Diaz")).to_have_count(0)
