"""Knowledge in an agent's reply: articles and accepted answers matching the ticket, and the
reuse an insertion records."""
import pytest
from django.urls import reverse

from communities import services as communities
from communities.models import ArticleReuse
from tickets import services as tickets
from tickets.models import Kind

pytestmark = pytest.mark.django_db


@pytest.fixture
def knowledge(make_user):
    owner = make_user()
    printers = communities.community_create(actor=owner, name="Printers", visibility="open")
    secret = communities.community_create(actor=owner, name="Board room", visibility="private")
    shared = communities.article_create(actor=owner, title="Printer paper jam fix", body="Open **tray 2** and pull.",
                                        community=printers)
    hidden = communities.article_create(actor=owner, title="Printer jam in the board room", body="Call facilities.",
                                        community=secret)
    question = communities.question_ask(actor=owner, community=printers, title="Printer jams on duplex pages",
                                        body="Any idea?")
    answer = communities.answer_post(actor=make_user(), question=question, body="Switch to single-sided.")
    communities.answer_accept(actor=owner, answer=answer)
    return shared, hidden, question


def test_the_reply_box_suggests_readable_articles_and_accepted_answers(client, alice, bob, knowledge):
    shared, hidden, question = knowledge
    ticket = tickets.ticket_create(actor=alice, kind=Kind.INCIDENT, title="Printer jam on floor 3")
    client.force_login(bob)
    html = client.get(reverse("communities:reply_knowledge", args=[ticket.pk])).content.decode()
    assert shared.title in html and question.title in html
    assert hidden.title not in html, "a private community's article stays with its members"
    assert "Open tray 2 and pull." in html


def test_inserting_an_article_records_its_reuse_once_per_ticket(client, alice, bob, knowledge):
    shared, hidden, _ = knowledge
    ticket = tickets.ticket_create(actor=alice, kind=Kind.INCIDENT, title="Printer jam on floor 3")
    client.force_login(bob)
    url = reverse("communities:reply_knowledge_link", args=[ticket.pk, shared.pk])
    first = client.post(url).json()
    assert first["text"].startswith(f"[{shared.title}](http://testserver{shared.get_absolute_url()})")
    client.post(url)
    assert ArticleReuse.objects.filter(article=shared, ticket=ticket).count() == 1
    assert client.post(reverse("communities:reply_knowledge_link", args=[ticket.pk, hidden.pk])).status_code == 404
    html = client.get(reverse("communities:reply_knowledge", args=[ticket.pk])).content.decode()
    assert "reused on 1 ticket" in html


def test_end_users_get_no_reply_knowledge_and_record_nothing(client, alice, knowledge):
    shared, _, _ = knowledge
    ticket = tickets.ticket_create(actor=alice, kind=Kind.INCIDENT, title="Printer jam on floor 3")
    client.force_login(alice)
    assert client.get(reverse("communities:reply_knowledge", args=[ticket.pk])).status_code == 404
    assert client.post(reverse("communities:reply_knowledge_link", args=[ticket.pk, shared.pk])).status_code == 404
    assert not ArticleReuse.objects.exists()
