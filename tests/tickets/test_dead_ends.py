"""No dead ends on everyday pages: what a page offers, the person may do now; what changes live
(a resolved ticket's rating form) appears live; links lead where the person came from."""
from __future__ import annotations

import re
from datetime import timedelta

import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from communities import services as communities
from gamification import services as gamification
from tickets import services as tickets

HOST = "127.0.0.1"


def client_for(user) -> Client:
    client = Client(HTTP_HOST=HOST)
    client.force_login(user)
    return client


def live_refresh(user, ticket) -> str:
    """What ticket.js fetches when an activity on the ticket arrives."""
    return client_for(user).get(f"/tickets/{ticket.pk}/conversation/", HTTP_HX_REQUEST="true").content.decode()


def test_the_rating_form_arrives_with_the_live_update_that_resolves_the_ticket(alice, bob):
    ticket = tickets.ticket_create(actor=alice, kind="incident", title="Screen flickers")
    before = live_refresh(alice, ticket)
    assert 'id="resolution-actions" class="stack stack-lg" hx-swap-oob="true"' in before
    assert "Rate the resolution" not in before

    tickets.ticket_update(actor=bob, ticket=ticket, status="resolved")

    after = live_refresh(alice, ticket)
    assert 'hx-swap-oob="true"' in after and "Rate the resolution" in after and "Not fixed after all?" in after
    assert f'action="/tickets/{ticket.pk}/rate/"' in after


def test_only_the_requester_gets_the_rating_form_live(alice, erin, bob):
    ticket = tickets.ticket_create(actor=alice, kind="incident", title="Wi-Fi down", visibility="public")
    tickets.ticket_update(actor=bob, ticket=ticket, status="resolved")
    assert "resolution-actions" not in live_refresh(erin, ticket)
    assert "Rate the resolution" not in live_refresh(bob, ticket)


def test_once_rated_the_form_does_not_come_back(alice, bob):
    ticket = tickets.ticket_create(actor=alice, kind="incident", title="Keyboard dead")
    tickets.ticket_update(actor=bob, ticket=ticket, status="resolved")
    tickets.rating_create(actor=alice, ticket=ticket, score=5)
    assert "Rate the resolution" not in live_refresh(alice, ticket)


def test_the_breadcrumb_names_where_the_person_came_from(alice, erin, bob):
    ticket = tickets.ticket_create(actor=alice, kind="incident", title="Printer offline", visibility="public")

    def crumb(user) -> str:
        html = client_for(user).get(ticket.get_absolute_url()).content.decode()
        return re.search(r'<p class="ticket-kicker">\s*(<a [^>]*>[^<]*</a>)', html)[1]

    assert crumb(alice) == '<a href="/tickets/mine/">My tickets</a>'
    assert crumb(erin) == '<a href="/portal/">Portal</a>', "not 'My tickets' on someone else's ticket"
    tickets.ticket_follow(actor=erin, ticket=ticket)
    assert crumb(erin) == '<a href="/tickets/followed/">Followed tickets</a>'
    assert crumb(bob) == '<a href="/queue/">Queue</a>'


def test_turn_into_a_ticket_is_offered_only_once_it_would_be_accepted(alice, erin):
    community = communities.community_create(actor=erin, name="Excel wizards", slug="excel")
    communities.community_join(actor=alice, community=community)
    question = communities.question_ask(actor=alice, community=community, title="Macro blocked")

    early = client_for(alice).get(question.get_absolute_url()).content.decode()
    assert "Turn into a ticket" not in early and 'id="ticket-later"' in early
    assert "Turn into a ticket" not in client_for(erin).get(question.get_absolute_url()).content.decode()

    with time_machine.travel(timezone.now() + timedelta(hours=settings.QUESTION_TO_TICKET_HOURS, minutes=1)):
        later = client_for(alice).get(question.get_absolute_url()).content.decode()
        assert "Turn into a ticket" in later
        made = client_for(alice).post(f"/questions/{question.pk}/ticket/")
    assert made.status_code == 302


def test_a_changed_bounty_says_when_it_was_last_set(make_user, bob):
    carol = make_user("carol", role=Role.MANAGER, display_name="Carol Nguyen")
    problem = tickets.ticket_create(actor=bob, kind="problem", title="Mail server drops connections")
    first = gamification.bounty_set(actor=carol, ticket=problem, points=50)
    with time_machine.travel(timezone.now() + timedelta(minutes=7)):
        changed = gamification.bounty_set(actor=carol, ticket=problem, points=80)
        assert changed.pk == first.pk and changed.points == 80
        assert timezone.now() - changed.created_at < timedelta(seconds=5)
