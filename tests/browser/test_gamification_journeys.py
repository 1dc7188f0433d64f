"""Gamification in a real browser: points and rank change live on the leaderboard while bob has it
open; a manager starts a campaign, sees its progress chart and puts a bounty on a problem. axe-core
on every page."""
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts import services as account_services
from accounts.models import Role
from feeds import services as feeds
from gamification import services as gamification
from gamification.models import PointEntry
from tests.browser.conftest import assert_accessible, off_thread, sign_in
from tests.conftest import PASSWORD
from tickets import services as tickets
from tickets.models import Kind

pytestmark = pytest.mark.browser

LIVE = 10_000


def points_of(user) -> int:
    return sum(PointEntry.objects.filter(user=user).values_list("points", flat=True))


def test_bob_climbs_the_leaderboard_live_and_carol_runs_a_campaign(alice, bob, erin, make_user, new_page):
    carol = make_user("carol", role=Role.MANAGER, display_name="Carol Nguyen",
                      team=account_services.team_get_or_create(name="Service Desk"))
    frank = make_user("frank", role=Role.AGENT, display_name="Frank Li")
    off_thread(gamification.leaderboards_rebuild)  # no sets left over from other suites

    def warm_up():
        for i in range(3):
            post = feeds.post_create(actor=frank, wall_type="user", wall_key="frank", body=f"Printer tip {i}")
            feeds.like_add(actor=alice, post_id=post.pk)
        post = feeds.post_create(actor=bob, wall_type="user", wall_key="bob", body="VPN tip")
        feeds.like_add(actor=erin, post_id=post.pk)
        ticket = tickets.ticket_create(actor=alice, kind=Kind.INCIDENT, title="Docking station ignores monitors",
                                       impact=2, urgency=2)
        tickets.ticket_update(actor=bob, ticket=ticket, assignee=bob)
        return ticket

    ticket = off_thread(warm_up)

    # Bob watches the weekly board: Frank leads with 3, Bob is second with 1.
    board = new_page()
    sign_in(board, "bob", PASSWORD)
    board.goto("/leaderboard/")
    expect(board.locator("#leaderboard")).to_have_attribute("data-live-subscribed", "true", timeout=LIVE)
    expect(board.locator("#my-rank")).to_have_text("#2")
    expect(board.locator("#my-points")).to_have_text("1")
    board.evaluate("window.__stillHere = true")
    assert_accessible(board)

    # He resolves Alice's incident (from another tab): new, within SLA, first contact.
    off_thread(tickets.ticket_update, actor=bob, ticket=ticket, status="resolved")
    earned = off_thread(points_of, bob)
    assert earned >= 1 + 10 + 5  # at least the resolution and its SLA on top of the like
    expect(board.locator("#my-rank")).to_have_text("#1", timeout=LIVE)
    expect(board.locator("#my-points")).to_have_text(str(earned))
    expect(board.locator("#board-table tbody tr").first).to_have_attribute("data-username", "bob")

    # Alice rates the fix 5 on her ticket page; Bob's board moves again without a reload.
    rater = new_page()
    sign_in(rater, "alice", PASSWORD)
    rater.goto(ticket.get_absolute_url())
    expect(rater.get_by_role("heading", name="Rate the resolution")).to_be_visible()
    assert_accessible(rater)
    rater.get_by_label("5 · Excellent").check()
    rater.get_by_role("button", name="Send rating").click()
    expect(rater.get_by_role("status").filter(has_text="Thank you for rating")).to_be_visible()
    expect(board.locator("#my-points")).to_have_text(str(earned + 10), timeout=LIVE)
    expect(board.locator('#board-table tr[data-username="bob"] .points')).to_have_text(str(earned + 10))
    assert board.evaluate("window.__stillHere") is True
    assert_accessible(board)

    # Bob's profile shows his standing.
    board.goto("/people/bob/")
    expect(board.locator("#profile-points")).to_have_text(str(earned + 10))
    expect(board.locator("#achievements")).to_contain_text("First Fix")
    assert_accessible(board)

    # Carol starts a quest on resolutions and sees Bob's progress on its chart.
    manager = new_page()
    sign_in(manager, "carol", PASSWORD)
    manager.goto("/manage/")
    expect(manager.get_by_role("heading", name=re.compile("Maturity level"))).to_be_visible()
    assert_accessible(manager)
    manager.goto("/campaigns/")
    assert_accessible(manager)
    now = timezone.now()
    manager.get_by_label("Name").fill("Close 20 this week")
    manager.get_by_label("Rule it boosts or counts").select_option(label="Resolved a ticket")
    manager.get_by_label("Points multiplier").fill("2")
    manager.get_by_label("Starts").fill((now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    manager.get_by_label("Ends").fill((now + timedelta(days=6)).strftime("%Y-%m-%dT%H:%M"))
    manager.get_by_label("Quest goal").fill("20")
    manager.get_by_label("Quest bonus points").fill("50")
    manager.get_by_role("button", name="Start the campaign").click()
    manager.wait_for_url(re.compile(r"/campaigns/\d+/$"))
    expect(manager.get_by_role("heading", level=1)).to_have_text("Close 20 this week")
    chart = manager.locator("#campaign-progress-chart")
    expect(chart).to_be_visible()
    expect(chart.locator("title").first).to_have_text("Progress in Close 20 this week towards 20")
    expect(manager.locator("#campaign-progress")).to_contain_text("Bob Okafor")
    assert_accessible(manager)
    assert carol.is_manager

    # She puts a bounty on an open problem from its page; agents see it there too.
    problem = off_thread(tickets.ticket_create, actor=carol, kind=Kind.PROBLEM, title="Docking stations lose monitors",
                         impact=2, urgency=2)
    manager.goto(problem.get_absolute_url())
    expect(manager.locator("#bounty-current")).to_have_text("No bounty on this problem yet.")
    manager.get_by_label("Bounty points").fill("0")
    manager.get_by_role("button", name="Set a bounty").click()
    expect(manager.get_by_label("Bounty points")).to_have_attribute("aria-invalid", "true")
    assert_accessible(manager)
    manager.get_by_label("Bounty points").fill("40")
    manager.get_by_label("Note for the agents").fill("Find the root cause")
    manager.get_by_role("button", name="Set a bounty").click()
    manager.wait_for_url(re.compile(rf"/tickets/{problem.pk}/#bounty$"))
    expect(manager.locator("#bounty-current")).to_contain_text("40 points for whoever resolves this problem")
    expect(manager.locator("#bounty-collected")).to_have_text("Not collected yet.")
    assert_accessible(manager)
    board.goto(problem.get_absolute_url())
    expect(board.locator("#bounty-current")).to_contain_text("40 points")
    expect(board.get_by_role("button", name="Change the bounty")).to_have_count(0)
    assert_accessible(board)
