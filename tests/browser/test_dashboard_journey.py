"""The manager's dashboard in a real browser, at 1280x800 and 390x844: the key figures and the
charts without scrolling on a laptop, nothing sideways on a phone, a drill-down from a figure to
its list, the team filter, and writing the social IT plan that level 1 of the maturity model asks
for. axe-core on every page; screenshots go to the test's temporary folder."""
import re

import pytest
from playwright.sync_api import expect

from accounts import services as account_services
from accounts.models import Role
from gamification import rollups
from tests.browser.conftest import assert_accessible, off_thread, sign_in
from tests.conftest import PASSWORD
from tickets import services as tickets

pytestmark = pytest.mark.browser


def in_viewport(page, selector: str) -> bool:
    return page.evaluate(
        """(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
                      return r.top >= 0 && r.bottom <= window.innerHeight && r.width > 0; }""", selector)


def scrolls_sideways(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth > document.documentElement.clientWidth")


def test_carol_reads_the_dashboard_drills_down_and_writes_the_plan(alice, bob, make_user, new_page, tmp_path):
    desk = account_services.team_get_or_create(name="Service Desk")
    make_user("carol", role=Role.MANAGER, display_name="Carol Nguyen", team=desk)
    ticket = off_thread(tickets.ticket_create, actor=alice, kind="incident", title="Outlook crashes on start", impact=3, urgency=3)
    off_thread(tickets.ticket_update, actor=bob, ticket=ticket, team=desk, assignee=bob, status="resolved")
    off_thread(tickets.rating_create, actor=alice, ticket=ticket, score=5)
    off_thread(rollups.rollups_refresh_recent)

    page = new_page()
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, "carol", PASSWORD)
    page.goto("/manage/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Manager dashboard")
    page.screenshot(path=str(tmp_path / "dashboard-1280.png"))
    for selector in ("#kpi-sla", "#kpi-satisfaction", "#kpi-saved", "#kpi-active", "#kpi-maturity", "#chart-active_people"):
        assert in_viewport(page, selector), f"{selector} needs scrolling at 1280x800"
    for chart in ("#chart-active_people", "#chart-social_actions", "#chart-deflections_saved", "#chart-tickets_resolved"):
        expect(page.locator(chart)).to_be_visible()
    expect(page.locator("#kpi-satisfaction")).to_contain_text("5.0 / 5")
    expect(page.locator("#criterion-plan")).to_contain_text("Not met")
    page.screenshot(path=str(tmp_path / "dashboard-1280-full.png"), full_page=True)
    assert_accessible(page)

    # The team filter keeps the selection on every link; the resolved figure drills down to the ticket.
    page.get_by_label("Team").select_option(label="Service Desk")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"team=\d+"))
    expect(page.locator("#kpi-sla")).to_contain_text("1 resolved")
    page.locator("#kpi-sla").get_by_role("link", name="1 resolved").click()
    page.wait_for_url(re.compile(r"/manage/figures/tickets_resolved/\?.*team=\d+"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Tickets resolved")
    expect(page.locator("#drill-rows")).to_contain_text("Outlook crashes on start")
    page.screenshot(path=str(tmp_path / "drill-1280.png"))
    assert_accessible(page)

    # Level 1 of the maturity model: a documented plan with targets.
    page.goto("/manage/maturity-plan/")
    assert_accessible(page)
    page.get_by_label("The plan", exact=True).fill("Pilot communities for remote work; measure satisfaction monthly.")
    page.get_by_label("Average satisfaction (1–5)").fill("9")
    page.get_by_role("button", name="Save the plan").click()
    expect(page.get_by_label("Average satisfaction (1–5)")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)
    page.get_by_label("Average satisfaction (1–5)").fill("4")
    page.get_by_role("button", name="Save the plan").click()
    page.wait_for_url(re.compile(r"/manage/"))
    expect(page.locator("#criterion-plan")).to_contain_text("Met")
    expect(page.get_by_role("heading", name=re.compile("Maturity level"))).to_contain_text(re.compile(r"Maturity level [1-4]"))

    phone = new_page()
    phone.set_viewport_size({"width": 390, "height": 844})
    sign_in(phone, "carol", PASSWORD)
    phone.goto("/manage/")
    expect(phone.locator("#kpi-sla")).to_be_in_viewport()
    for chart in ("#chart-active_people", "#chart-tickets_resolved"):
        phone.locator(chart).scroll_into_view_if_needed()
        expect(phone.locator(chart)).to_be_visible()
    assert not scrolls_sideways(phone), "the dashboard scrolls sideways at 390x844"
    phone.screenshot(path=str(tmp_path / "dashboard-390.png"), full_page=True)
    assert_accessible(phone)
    phone.goto("/manage/figures/tickets_resolved/")
    assert not scrolls_sideways(phone), "the drill-down scrolls sideways at 390x844"
    assert_accessible(phone)
    phone.goto("/manage/maturity-plan/")
    assert not scrolls_sideways(phone), "the plan page scrolls sideways at 390x844"
    phone.screenshot(path=str(tmp_path / "plan-390.png"), full_page=True)
