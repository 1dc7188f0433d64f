"""`@username` in a ticket reply tells that person, if they may see it; the reply box suggests them."""
from __future__ import annotations

import pytest
from django.test import Client

from feeds.models import Notification
from servicedesk.errors import ApplicationError
from tests.communities.test_mention_boxes import boxes
from tickets import services

KIND = "ticket.person_mentioned"


def told(user) -> list[str]:
    return list(Notification.objects.filter(recipient=user, kind=KIND).values_list("text", flat=True))


def test_a_reply_mentioning_an_agent_tells_them(alice, bob, make_user, open_ticket):
    sam = make_user("sam", role="agent", team=bob.team, display_name="Sam Reyes")
    ticket = open_ticket(alice, title="Laptop will not boot")
    comment = services.comment_add(actor=bob, ticket=ticket, body="@sam, you fixed one of these last week?")
    assert told(sam) == [f"Bob Okafor mentioned you on {ticket.number}: Laptop will not boot"]
    assert Notification.objects.get(recipient=sam, kind=KIND).url == f"{ticket.get_absolute_url()}#comment-{comment.pk}"


def test_a_private_ticket_tells_nobody_who_may_not_see_it(alice, erin, bob, open_ticket):
    ticket = open_ticket(alice, title="My laptop")
    services.comment_add(actor=bob, ticket=ticket, body="@erin do you have the same model?")
    assert not Notification.objects.filter(recipient=erin).exists()


def test_a_public_ticket_tells_colleagues_but_an_internal_note_only_agents(alice, erin, bob, make_user, open_ticket):
    sam = make_user("sam", role="agent", team=bob.team, display_name="Sam Reyes")
    ticket = open_ticket(alice, visibility="public", title="Wi-Fi down")
    services.comment_add(actor=bob, ticket=ticket, body="@erin @sam see the gateway", internal=True)
    assert told(erin) == [] and len(told(sam)) == 1
    services.comment_add(actor=alice, ticket=ticket, body="@erin is it down for you too?")
    assert told(erin) == [f"Alice Martin mentioned you on {ticket.number}: Wi-Fi down"]


def test_followers_hear_of_the_reply_once(alice, bob, open_ticket):
    ticket = open_ticket(alice, title="Printer")
    services.comment_add(actor=bob, ticket=ticket, body="@alice could you restart it?")
    assert told(alice) == []
    assert Notification.objects.filter(recipient=alice, kind="ticket.reply").count() == 1


def test_the_mention_cap_refuses_a_typed_reply_not_a_forwarded_mail(alice, bob, make_user, open_ticket, settings):
    settings.MENTIONS_MAX = 2
    for name in ("u1", "u2", "u3"):
        make_user(name, role="agent")
    ticket = open_ticket(alice, title="Printer")
    with pytest.raises(ApplicationError) as refused:
        services.comment_add(actor=alice, ticket=ticket, body="@u1 @u2 @u3")
    assert "body" in refused.value.errors
    services.comment_add(actor=alice, ticket=ticket, body="@u1 @u2 @u3", channel="email")
    assert Notification.objects.filter(kind=KIND).count() == 2, "the first MENTIONS_MAX are told"


def test_the_reply_box_suggests_people_who_may_see_the_ticket(alice, bob, open_ticket):
    ticket = open_ticket(alice, title="Printer")
    for user in (alice, bob):
        client = Client()
        client.force_login(user)
        page = boxes(client.get(ticket.get_absolute_url()))
        assert page["body"] == f"ticket:{ticket.pk}", page
