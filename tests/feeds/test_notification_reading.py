"""Notifications clear: opening what they point to (page or API) reads them and tells every
open tab; the list names kinds in words and groups notifications about one thing."""
from __future__ import annotations

import asyncio
import re

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.test import Client

from accounts.models import Role
from feeds import services as feeds
from feeds import streams
from feeds.models import Notification
from tickets import services as tickets

HOST = "127.0.0.1"


def page(user, path):
    client = Client(HTTP_HOST=HOST)
    client.force_login(user)
    return client.get(path)


def unread(user) -> set[str]:
    """The pages the person's unread notifications point to."""
    urls = Notification.objects.filter(recipient=user, read=False).values_list("url", flat=True)
    return {url.split("#")[0] for url in urls}


@pytest.fixture
def sam(make_user, bob):
    return make_user("sam", role=Role.AGENT, team=bob.team, display_name="Sam Reyes")


@pytest.fixture
def two_tickets(alice):
    vpn = tickets.ticket_create(actor=alice, kind="incident", title="VPN disconnects", visibility="public")
    mail = tickets.ticket_create(actor=alice, kind="incident", title="Mail is slow", visibility="public")
    return vpn, mail


def test_list_groups_notifications_by_what_they_point_to_in_words(alice, bob, sam, two_tickets):
    vpn, mail = two_tickets
    tickets.comment_add(actor=bob, ticket=vpn, body="Looking")
    tickets.comment_add(actor=sam, ticket=vpn, body="Found it")
    tickets.comment_add(actor=bob, ticket=mail, body="On it")

    html = page(alice, "/notifications/").content.decode()

    assert f"2 replies on {vpn.number} VPN disconnects" in html
    assert "Bob Okafor" in html and "Reply</span>" in html
    assert "ticket.reply" not in html, "kinds are named in words, never by their code"
    rows = re.findall(r'class="notification-row[^"]*" data-target="([^"]*)"', html)
    assert rows == [mail.get_absolute_url(), vpn.get_absolute_url()]


def test_opening_the_ticket_reads_its_notifications_only(alice, bob, sam, two_tickets):
    vpn, mail = two_tickets
    tickets.comment_add(actor=bob, ticket=vpn, body="Looking")
    tickets.comment_add(actor=sam, ticket=vpn, body="Found it")
    tickets.comment_add(actor=bob, ticket=mail, body="On it")
    assert unread(alice) == {vpn.get_absolute_url(), mail.get_absolute_url()}

    response = page(alice, vpn.get_absolute_url())

    assert response.status_code == 200
    assert unread(alice) == {mail.get_absolute_url()}
    badge = re.search(r'id="unread-badge"[^>]*data-count="(\d+)"', response.content.decode())
    assert badge and badge[1] == "1", "the page's own badge already counts them read"


def test_someone_elses_visit_reads_nothing_of_mine(alice, erin, bob, two_tickets):
    vpn, _ = two_tickets
    tickets.ticket_follow(actor=erin, ticket=vpn)
    tickets.comment_add(actor=bob, ticket=vpn, body="Looking")

    page(erin, vpn.get_absolute_url())

    assert unread(alice) == {vpn.get_absolute_url()}
    assert unread(erin) == set()


def test_reading_the_ticket_through_the_api_reads_its_notifications(alice, bob, api_as, two_tickets):
    vpn, mail = two_tickets
    tickets.comment_add(actor=bob, ticket=vpn, body="Looking")
    tickets.comment_add(actor=bob, ticket=mail, body="On it")

    assert api_as(alice).get(f"/api/v1/tickets/{vpn.pk}/").status_code == 200

    assert unread(alice) == {mail.get_absolute_url()}
    listed = api_as(alice).get("/api/v1/notifications/").json()["results"]
    assert {(n["url"].split("#")[0], n["read"], n["kind_label"]) for n in listed} == {
        (vpn.get_absolute_url(), True, "Reply"), (mail.get_absolute_url(), False, "Reply")}


def test_a_refused_api_read_reads_nothing(alice, erin, bob, api_as):
    private = tickets.ticket_create(actor=alice, kind="incident", title="My laptop", visibility="private")
    tickets.comment_add(actor=bob, ticket=private, body="Looking")
    # erin's notifications are hers; the 404 on alice's private ticket must not touch anything.
    assert api_as(erin).get(f"/api/v1/tickets/{private.pk}/").status_code == 404
    assert unread(alice) == {private.get_absolute_url()}


def test_every_open_tab_hears_which_notifications_were_read(alice, bob, two_tickets, django_capture_on_commit_callbacks):
    vpn, _ = two_tickets
    tickets.comment_add(actor=bob, ticket=vpn, body="Looking")
    ids = list(Notification.objects.filter(recipient=alice).values_list("pk", flat=True))
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(streams.user_group_name(alice.pk), channel)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            page(alice, vpn.get_absolute_url())
        message = async_to_sync(asyncio.wait_for)(layer.receive(channel), 5)
    finally:
        async_to_sync(layer.group_discard)(streams.user_group_name(alice.pk), channel)
    assert message == {"type": "live.unread", "count": 0, "read": ids}


def test_mark_all_read_still_clears_everything(alice, bob, two_tickets):
    vpn, mail = two_tickets
    tickets.comment_add(actor=bob, ticket=vpn, body="Looking")
    tickets.comment_add(actor=bob, ticket=mail, body="On it")
    assert feeds.notifications_mark_read(actor=alice, all_=True) == 2
    assert unread(alice) == set()
