"""The queue as a workspace, through the Django test client: its views and their capped counts,
the next-SLA-due order, filters fetched on their own (htmx) with the queue's address, and query
counts that stay flat."""
import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Role
from tickets import selectors, services
from tickets.models import Kind, SavedView, Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(client, bob):
    client.force_login(bob)
    return client


def incident(requester, title, **extra):
    extra.setdefault("impact", 2)
    extra.setdefault("urgency", 2)
    return services.ticket_create(actor=requester, kind=Kind.INCIDENT, title=title, **extra)


def counts(user) -> dict[str, str]:
    views = selectors.queue_counts(user=user, views=selectors.queue_views(user=user))
    return {view.label: view.count_label for view in views}


def view_links(html: str) -> dict[str, str]:
    """Each view's name and count as the page shows them."""
    found = re.findall(
        r'<span class="queue-view-name">([^<]+)</span> <span class="queue-view-count">([^<]+)<', html
    )
    return dict(found)


def queue_page(user, params) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.get(reverse("tickets:queue"), params).content.decode()


def test_each_view_counts_what_it_shows(alice, bob, make_user):
    team = bob.team
    other_team = account_services.team_get_or_create(name="Field Service")
    mine = incident(alice, "Mine")
    services.ticket_update(actor=bob, ticket=mine, assignee=bob)
    ours = incident(alice, "Unassigned, our team")
    services.ticket_update(actor=bob, ticket=ours, team=team)
    theirs = incident(alice, "Unassigned, another team")
    services.ticket_update(actor=bob, ticket=theirs, team=other_team)
    waiting = incident(alice, "Waiting for Alice")
    services.ticket_update(actor=bob, ticket=waiting, status=Status.PENDING)
    done = incident(alice, "Done already")
    services.ticket_update(actor=bob, ticket=done, status=Status.RESOLVED)
    with time_machine.travel(timezone.now() - timedelta(days=20), tick=False):
        late = incident(alice, "Long overdue")
    services.sla_check(now=timezone.now())

    assert counts(bob) == {
        # New tickets land in the service desk's team (bob's): waiting and overdue ones are unassigned too.
        "My open": "1", "Unassigned in my team": "3", "About to breach": "0", "Breached": "1",
        "Waiting on requester": "1", "All open": "5",
    }
    # Each view's link shows exactly the tickets it counted.
    for view in selectors.queue_views(user=bob):
        if view.key == "breached":
            page = queue_page(bob, view.params)
            assert late.title in page and mine.title not in page
        if view.key == "unassigned":
            page = queue_page(bob, view.params)
            assert ours.title in page and theirs.title not in page and mine.title not in page


def test_an_agent_without_a_team_sees_every_unassigned_ticket(alice, make_user):
    loner = make_user("lee", role=Role.AGENT)
    incident(alice, "Nobody's yet")
    assert counts(loner)["Unassigned"] == "1"


def test_about_to_breach_is_the_warning_window(alice, bob, settings):
    soon = incident(alice, "Due soon", impact=1, urgency=1)
    incident(alice, "Due in days", impact=3, urgency=3)
    hours = (soon.resolution_due_at - timezone.now()).total_seconds() / 3600
    settings.SLA_WARNING_MINUTES = int((hours + 1) * 60)
    assert counts(bob)["About to breach"] == "1"
    page = queue_page(bob, {"sla": "soon"})
    assert "Due soon" in page and "Due in days" not in page


def test_counts_stop_at_the_cap(alice, bob, monkeypatch):
    monkeypatch.setattr(selectors, "QUEUE_COUNT_CAP", 2)
    for n in range(4):
        incident(alice, f"Ticket {n}")
    assert counts(bob)["All open"] == "2+"


def test_saved_views_have_counts_and_a_stale_one_does_not_break_the_page(agent, alice, bob):
    incident(alice, "Critical one", impact=1, urgency=1)
    incident(alice, "Low one", impact=3, urgency=3)
    services.saved_view_save(actor=bob, name="Critical", query={"priority": "1"})
    SavedView.objects.create(owner=bob, name="From older rules", query={"priority": "urgent"})
    response = agent.get(reverse("tickets:queue"))
    assert response.status_code == 200
    links = view_links(response.content.decode())
    assert links["Critical"] == "1" and links["From older rules"] == "\u2013" and links["All open"] == "2"


def test_the_view_the_filters_match_is_the_current_one(agent, bob):
    def current(params):
        html = agent.get(reverse("tickets:queue"), params).content.decode()
        return re.findall(r'data-view="([\w-]+)" aria-current="page"', html)

    assert current({}) == ["open"]
    assert current({"assignee": "me", "sort": "priority"}) == ["mine"]
    assert current({"breached": "true"}) == ["breached"]  # the API's spelling of the same view
    assert current({"status": "pending"}) == ["waiting"]
    assert current({"priority": "2"}) == []


def test_next_sla_due_comes_first(agent, alice):
    incident(alice, "Critical, logged first", impact=1, urgency=1)
    incident(alice, "Low, logged last", impact=3, urgency=3)
    html = agent.get(reverse("tickets:queue")).content.decode()
    assert html.index("Critical, logged first") < html.index("Low, logged last")
    newest = agent.get(reverse("tickets:queue"), {"sort": "-id"}).content.decode()
    assert newest.index("Low, logged last") < newest.index("Critical, logged first")


def test_a_filter_change_gets_rows_counts_and_the_queue_address(agent, alice, bob):
    mine = incident(alice, "Mine to fix")
    incident(alice, "Someone else's")
    services.ticket_update(actor=bob, ticket=mine, assignee=bob)
    response = agent.get(
        reverse("tickets:queue_table"), {"q": "", "status": "open", "assignee": "me", "sla": ""},
        HTTP_HX_REQUEST="true", HTTP_HX_TRIGGER="queue-filters",
    )
    html = response.content.decode()
    assert response["HX-Push-Url"] == "/queue/?status=open&assignee=me"
    assert "Mine to fix" in html and "Someone else" not in html
    assert re.search(r'<nav class="queue-views" id="queue-views"[^>]* hx-swap-oob="true"', html)
    assert view_links(html)["All open"] == "2"
    assert 'data-query="status=open&amp;assignee=me"' in html
    # A live refresh of the same rows leaves the address alone.
    refresh = agent.get(reverse("tickets:queue_table"), {"assignee": "me"}, HTTP_HX_REQUEST="true")
    assert "HX-Push-Url" not in refresh


def test_filters_not_understood_are_a_400_with_the_reason(agent):
    response = agent.get(reverse("tickets:queue"), {"sla": "yesterday"})
    assert response.status_code == 400
    assert "Use soon or breached" in response.content.decode()


def test_the_queue_and_its_counts_are_for_staff_only(client, alice, erin):
    incident(alice, "Private matter")
    client.force_login(erin)
    assert client.get(reverse("tickets:queue")).status_code == 403
    response = client.get(reverse("tickets:queue_table"), HTTP_HX_REQUEST="true", HTTP_HX_TRIGGER="queue-filters")
    assert response.status_code == 403
    assert "Private matter" not in response.content.decode() and "HX-Push-Url" not in response


def test_an_agent_demoted_to_end_user_loses_the_queue(client, alice, make_user):
    former = make_user("fran", role=Role.AGENT)
    incident(alice, "Private matter")
    client.force_login(former)
    assert client.get(reverse("tickets:queue")).status_code == 200
    account_services.user_role_set(actor=make_user("root", role=Role.ADMIN), user=former, role=Role.END_USER)
    response = client.get(reverse("tickets:queue_table"))
    assert response.status_code in (302, 403)  # signed out by the change, or refused
    assert "Private matter" not in response.content.decode()


def test_the_queue_reads_a_fixed_number_of_queries(agent, alice, bob, make_user, django_assert_max_num_queries):
    requesters = [make_user(role=Role.END_USER) for _ in range(3)]
    for n in range(30):
        ticket = incident(requesters[n % 3], f"Ticket {n}")
        if n % 3 == 0:
            services.ticket_update(actor=bob, ticket=ticket, assignee=bob)
    for n in range(4):
        services.saved_view_save(actor=bob, name=f"View {n}", query={"priority": str(n % 4 + 1)})
    # session, user, live ids, row ids, rows, saved views, every view's count, agents, teams, services
    with django_assert_max_num_queries(10):
        assert agent.get(reverse("tickets:queue")).status_code == 200
    with django_assert_max_num_queries(7):
        assert agent.get(reverse("tickets:queue_table"), {"assignee": "me"}).status_code == 200


def test_the_api_lists_take_the_same_sla_filter(api_as, alice, bob, settings):
    soon = incident(alice, "Due soon", impact=1, urgency=1)
    incident(alice, "Due in days", impact=3, urgency=3)
    settings.SLA_WARNING_MINUTES = int(((soon.resolution_due_at - timezone.now()).total_seconds() / 3600 + 1) * 60)
    response = api_as(bob).get("/api/v1/tickets/", {"sla": "soon"})
    assert response.status_code == 200, response.content
    assert [t["title"] for t in response.json()["results"]] == ["Due soon"]
    refused = api_as(bob).get("/api/v1/tickets/", {"sla": "later"})
    assert refused.status_code == 400
    assert "sla" in refused.json()["errors"]
