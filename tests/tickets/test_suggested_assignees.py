"""Suggested assignees: agents whose expertise matches the ticket's words, the ticket's team first,
shown to agents next to the assignee select, at no extra query on the ticket page."""
from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import services as accounts
from accounts.models import Role
from tickets import selectors, services

pytestmark = pytest.mark.django_db


@pytest.fixture
def network(db):
    return accounts.team_get_or_create(name="Network")


@pytest.fixture
def agent(make_user, bob):
    def make(username, tags, team=None, **extra):
        return make_user(username, role=Role.AGENT, team=team or bob.team, display_name=username.capitalize() + " Agent",
                         expertise_tags=tags, **extra)
    return make


def suggested(ticket) -> list[tuple[str, list[str]]]:
    return [(s.agent.username, s.tags) for s in selectors.suggested_assignees(ticket=ticket)]


def page_for(user, ticket) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(ticket.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def test_expertise_matches_whole_words_of_the_title_description_and_service(alice, bob, agent):
    agent("vera", ["vpn", "printers"])
    agent("otto", ["outlook", "active directory"])
    agent("nina", ["vpnclient"])
    mail = services.service_create(name="Outlook", owner_team=bob.team)

    vpn = services.ticket_create(actor=alice, kind="incident", title="VPN drops", description="Every hour, the VPN disconnects.")
    assert suggested(vpn) == [("vera", ["vpn"])], "whole words only: vpnclient is not vpn"

    printer = services.ticket_create(actor=alice, kind="incident", title="The PRINTER jams", description="")
    assert suggested(printer) == [("vera", ["printers"])], "case and a plural's s do not matter"

    account = services.ticket_create(actor=alice, kind="request", title="New starter", service=mail,
                                     description="Please add her to Active Directory.")
    assert suggested(account) == [("otto", ["active directory", "outlook"])], "a tag of two words needs both; the service counts"

    nothing = services.ticket_create(actor=alice, kind="incident", title="Chair is broken", description="Directory of chairs")
    assert suggested(nothing) == []


def test_the_tickets_team_comes_first_then_the_most_matches_and_at_most_three(alice, bob, agent, network):
    agent("ann", ["vpn", "wi-fi"])
    agent("ben", ["vpn"])
    agent("cid", ["vpn"], team=network)
    agent("dot", ["wi-fi"])
    ticket = services.ticket_create(actor=alice, kind="incident", title="VPN over Wi-Fi fails", team=network)
    assert suggested(ticket) == [("cid", ["vpn"]), ("ann", ["vpn", "wi-fi"]), ("ben", ["vpn"])]
    services.ticket_update(actor=bob, ticket=ticket, team=None)
    ticket.refresh_from_db()
    assert [name for name, _ in suggested(ticket)] == ["ann", "ben", "cid"]


def test_inactive_agents_end_users_and_the_current_assignee_are_left_out(alice, bob, dave, agent, make_user):
    gone = agent("gus", ["vpn"])
    accounts.user_deactivate(actor=dave, user=gone)
    make_user("eve", expertise_tags=["vpn"])  # an end user knows it too, but is not an agent
    kim = agent("kim", ["vpn"])
    ticket = services.ticket_create(actor=alice, kind="incident", title="VPN drops")
    assert suggested(ticket) == [("kim", ["vpn"])]
    services.ticket_update(actor=bob, ticket=ticket, assignee=kim)
    ticket.refresh_from_db()
    assert suggested(ticket) == []


def test_the_read_is_one_query_whatever_the_number_of_agents(alice, agent, django_assert_num_queries):
    for n in range(12):
        agent(f"agent{n}", ["vpn", f"topic{n}"])
    ticket = selectors.ticket_get(user=alice, ticket_id=services.ticket_create(actor=alice, kind="incident", title="VPN").pk)
    with django_assert_num_queries(1):
        assert len(selectors.suggested_assignees(ticket=ticket)) == 3


def test_agents_see_the_suggestions_as_buttons_that_set_the_assignee(alice, bob, agent):
    agent("vera", ["vpn"])
    ticket = services.ticket_create(actor=alice, kind="incident", title="VPN drops", visibility="public")
    html = page_for(bob, ticket)
    controls = html.split('id="agent-controls"', 1)[1].split("</section>", 1)[0]
    group = controls.split('class="suggested-assignees', 1)[1]
    assert "Suggested assignees" in group
    assert re.search(r'<button type="button"[^>]*data-assign="vera"[^>]*aria-describedby="suggested-assignee-1"', group)
    assert '<span class="visually-hidden">Set assignee to </span>Vera Agent</button>' in group
    assert 'id="suggested-assignee-1" class="small muted">Knows vpn<' in group
    assert controls.index('id="update_assignee"') < controls.index("Suggested assignees") < controls.index('id="update_priority"')
    # The live refresh of the triage controls keeps them.
    refreshed = Client()
    refreshed.force_login(bob)
    body = refreshed.get(reverse("tickets:conversation", args=[ticket.pk]), {"controls": "1"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-assign="vera"' in body


def test_people_who_are_not_agents_never_see_them(alice, erin, bob, agent):
    agent("vera", ["vpn"])
    ticket = services.ticket_create(actor=alice, kind="incident", title="VPN drops", visibility="public")
    for person in (alice, erin):
        html = page_for(person, ticket)
        assert "Suggested assignees" not in html and "data-assign" not in html and "Vera Agent" not in html


def test_the_ticket_page_reads_them_at_no_extra_query(alice, bob, agent):
    ticket = services.ticket_create(actor=alice, kind="incident", title="VPN drops", description="Wi-Fi and VPN")
    client = Client()
    client.force_login(bob)
    client.get(ticket.get_absolute_url())

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(ticket.get_absolute_url()).status_code == 200
        return len(captured)

    without = queries()
    for n in range(8):
        agent(f"agent{n}", ["vpn", "wi-fi"])
    with_suggestions = queries()
    assert "Suggested assignees" in client.get(ticket.get_absolute_url()).content.decode()
    assert with_suggestions == without <= 16
