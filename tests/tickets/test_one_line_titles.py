"""A line break in a title never reaches an e-mail header: titles are kept on one line when
written (API and page), and e-mail subjects collapse whitespace for rows written before."""
import pytest
from django.core import mail
from django.test import Client

from communities import services as communities
from feeds.models import OutboxMessage
from tickets import services
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def mail_to(user):
    return [m for m in mail.outbox if m.to == [user.email]]


def test_api_title_with_line_breaks_is_stored_on_one_line_and_its_email_is_sent(
        alice, bob, api_as, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(alice).post("/api/v1/tickets/", {
            "kind": "incident", "title": "  VPN drops\r\nevery\thour\u2028again ", "impact": 2, "urgency": 2,
        }, format="json")
    assert response.status_code == 201, response.content
    ticket = Ticket.objects.get(pk=response.json()["id"])
    assert ticket.title == "VPN drops every hour again"
    assert response.json()["title"] == "VPN drops every hour again"

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_update(actor=bob, ticket=ticket, assignee=bob, status="in_progress")
    sent = mail_to(alice)
    assert sent, "the requester is told by e-mail"
    assert all("\n" not in m.subject and "\r" not in m.subject for m in sent)
    assert any("VPN drops every hour again" in m.subject for m in sent)
    assert not OutboxMessage.objects.filter(kind="email").exclude(status=OutboxMessage.Status.SENT).exists()


def test_portal_title_with_line_breaks_is_stored_on_one_line(alice):
    client = Client()
    client.force_login(alice)
    response = client.post("/portal/", {
        "kind": "incident", "title": "Printer\r\non floor 3\njams", "description": "", "service": "",
        "impact": "3", "urgency": "3", "visibility": "private",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Ticket.objects.get(requester=alice).title == "Printer on floor 3 jams"


def test_email_subject_collapses_a_line_break_already_stored(alice, bob, open_ticket, django_capture_on_commit_callbacks):
    """Rows written before titles were normalised may still hold a newline."""
    ticket = open_ticket(alice, title="Legacy title")
    Ticket.objects.filter(pk=ticket.pk).update(title="Legacy\r\ntitle\nwith breaks")
    ticket.refresh_from_db()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_update(actor=bob, ticket=ticket, assignee=bob, status="in_progress")
    sent = mail_to(alice)
    assert sent and any("Legacy title with breaks" in m.subject for m in sent)
    assert not OutboxMessage.objects.filter(kind="email").exclude(status=OutboxMessage.Status.SENT).exists()


def test_community_titles_are_stored_on_one_line(bob):
    community = communities.community_create(actor=bob, name="Windows help", slug="windows")
    question = communities.question_ask(actor=bob, community=community, title="Outlook\ncrashes\r\non start")
    assert question.title == "Outlook crashes on start"
    article = communities.article_create(actor=bob, title="Fix\nOutlook", body="Safe mode first.", community=community)
    assert article.title == "Fix Outlook"
    communities.article_edit(actor=bob, article=article, title="Fix\r\nOutlook fast", body="Safe mode first.")
    article.refresh_from_db()
    assert article.title == "Fix Outlook fast"


def test_an_outbound_email_channel_subject_with_a_line_break_still_sends():
    from policies import senders

    out = senders.Outgoing(post_id=1, attempt=1, delivery_key="k1", channel_kind="email", channel_name="Mail",
                           config={"to": ["updates@example.com"], "subject": "Weekly\r\nupdate"}, text="Hello",
                           event="manual")
    mail.outbox.clear()
    result = senders.send(out)
    assert result.outcome == senders.SENT, result
    assert [m.subject for m in mail.outbox] == ["Weekly update"]
