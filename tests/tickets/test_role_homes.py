"""Every role's home starts the work: end users report and follow, agents see "My work",
managers the week's figures; each only with what the person may see, in a fixed number of
queries whatever the data's size."""
from __future__ import annotations

import re

import pytest
from django.test import Client

from accounts.models import Role
from communities import services as communities
from gamification import selectors as points
from tickets import services as tickets

HOST = "127.0.0.1"


def home(user, django_assert_max_num_queries=None, budget=None) -> str:
    client = Client(HTTP_HOST=HOST)
    client.force_login(user)
    if budget is None:
        response = client.get("/")
    else:
        with django_assert_max_num_queries(budget):
            response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def section(html: str, section_id: str) -> str:
    match = re.search(rf'<section[^>]*id="{section_id}"[^>]*>(.*?)</section>', html, re.S)
    assert match, f"#{section_id} is on the home"
    return match[1]


def headings(html: str) -> list[str]:
    return re.findall(r"<h2 id=\"[^\"]*\">([^<]*)</h2>", html)


@pytest.fixture
def carol(make_user, bob):
    return make_user("carol", role=Role.MANAGER, display_name="Carol Nguyen")


@pytest.fixture
def vpn(db, bob):
    return tickets.service_create(name="VPN", owner_team=bob.team)


def incident(actor, title, **extra):
    return tickets.ticket_create(actor=actor, kind="incident", title=title, **extra)


def test_end_user_home_starts_with_report_then_my_tickets_and_followed_incidents(alice, erin, bob, vpn):
    mine = incident(alice, "My laptop will not boot", service=vpn)
    done = incident(alice, "Old one")
    tickets.ticket_update(actor=bob, ticket=done, status="resolved")
    outage = incident(erin, "VPN disconnects every few minutes", visibility="public", service=vpn)
    tickets.ticket_me_too(actor=alice, ticket=outage)
    tickets.comment_add(actor=bob, ticket=outage, body="A fix is rolling out")
    tickets.comment_add(actor=bob, ticket=outage, body="Internal: gateway 3 is flaky", internal=True)
    secret = incident(erin, "Erin's private matter")
    community = communities.community_create(actor=bob, name="Remote work", slug="remote", description="VPN tips")
    communities.community_services_set(actor=bob, community=community, services=[vpn])

    html = home(alice)

    assert headings(html)[0] == "Something not working?"
    assert 'href="/portal/">Report an issue</a>' in html
    mine_html = section(html, "home-my-tickets")
    assert mine.title in mine_html and "Old one" not in mine_html
    followed = section(html, "home-followed")
    assert "VPN disconnects every few minutes" in followed and "A fix is rolling out" in followed
    assert "gateway 3" not in html, "an end user never reads internal notes"
    assert secret.title not in html
    assert "Remote work" in section(html, "home-suggested")
    assert "This week" not in headings(html) and "Awaiting review" not in headings(html)


def test_a_followed_incident_made_private_leaves_the_home(alice, erin, bob):
    outage = incident(erin, "Mail bounces", visibility="public")
    tickets.ticket_follow(actor=alice, ticket=outage)
    assert "Mail bounces" in home(alice)
    tickets.ticket_update(actor=bob, ticket=outage, visibility="private")
    assert "Mail bounces" not in home(alice)


def test_end_user_home_has_a_fixed_query_budget(alice, erin, bob, vpn, django_assert_max_num_queries):
    incident(alice, "One", service=vpn)
    home(alice, django_assert_max_num_queries, 11)
    for n in range(5):
        incident(alice, f"More {n}", service=vpn)
        public = incident(erin, f"Public {n}", visibility="public", service=vpn)
        tickets.ticket_follow(actor=alice, ticket=public)
        tickets.comment_add(actor=bob, ticket=public, body=f"Update {n}")
    home(alice, django_assert_max_num_queries, 11)


def test_agent_home_is_my_work(alice, bob, make_user, django_assert_max_num_queries):
    other_team_agent = make_user("olga", role=Role.AGENT, display_name="Olga Other")
    later = incident(alice, "Later one", impact=3, urgency=3, team=bob.team)
    sooner = incident(alice, "Sooner one", impact=1, urgency=1, team=bob.team)
    for ticket in (later, sooner):
        tickets.ticket_update(actor=bob, ticket=ticket, assignee=bob)
    waiting = incident(alice, "Nobody took me", team=bob.team)
    elsewhere = incident(alice, "Another team's", team=None)
    taken = incident(alice, "Olga's", team=bob.team)
    tickets.ticket_update(actor=other_team_agent, ticket=taken, assignee=other_team_agent)
    tickets.ticket_update(actor=bob, ticket=sooner, status="resolved")
    week_points = points.points_this_week(bob)

    html = home(bob, django_assert_max_num_queries, 12)

    assigned = section(html, "home-assigned")
    assert "Later one" in assigned and "Sooner one" not in assigned, "resolved tickets leave My work"
    unassigned = section(html, "home-unassigned")
    assert waiting.title in unassigned and elsewhere.title not in unassigned and "Olga" not in unassigned
    assert "Service Desk" in headings(html)[1]
    assert f"<strong>{week_points}</strong>" in section(html, "home-points") and week_points > 0
    assert "Report an issue" not in html


def test_agent_sees_the_nearest_deadline_first(alice, bob):
    low = incident(alice, "Low priority", impact=3, urgency=3)
    high = incident(alice, "Critical outage", impact=1, urgency=1)
    for ticket in (low, high):
        tickets.ticket_update(actor=bob, ticket=ticket, assignee=bob)
    assigned = section(home(bob), "home-assigned")
    assert assigned.index("Critical outage") < assigned.index("Low priority")


def test_followed_tickets_show_internal_notes_to_agents_only(alice, bob, make_user):
    sam = make_user("sam", role=Role.AGENT, team=bob.team, display_name="Sam Reyes")
    ticket = incident(alice, "Printer jams", visibility="public")
    tickets.ticket_follow(actor=bob, ticket=ticket)
    tickets.ticket_follow(actor=alice, ticket=ticket)
    tickets.comment_add(actor=sam, ticket=ticket, body="Rollers worn", internal=True)
    assert "Rollers worn" in section(home(bob), "home-followed")
    assert "Rollers worn" not in home(alice)


def test_manager_home_shows_the_week_linking_to_the_dashboard(alice, bob, carol, django_assert_max_num_queries):
    for n in range(3):
        ticket = incident(alice, f"Issue {n}")
        if n < 2:
            tickets.ticket_update(actor=bob, ticket=ticket, status="resolved")

    html = home(carol, django_assert_max_num_queries, 14)

    assert headings(html)[0] == "This week"
    week = section(html, "home-week")
    assert 'href="/manage/"' in week
    assert re.search(r"<dt>Tickets opened</dt><dd>3</dd>", week)
    assert re.search(r"<dt>Resolved</dt><dd>2</dd>", week)
    assert re.search(r"<dt>Open now</dt><dd>1</dd>", week)
    assert "This week" not in headings(home(alice)), "figures are for managers"
