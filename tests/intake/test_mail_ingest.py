"""One parser service for every way mail comes in: what becomes a ticket, a comment, or nothing."""
import pytest
from django.core import mail

from feeds import mail_threads
from feeds import services as feeds
from feeds.models import MailSent, Notification
from intake import services
from intake.models import InboundMessage, Mailbox
from tickets import services as tickets
from tickets.models import Attachment, Comment, Ticket

from . import messages as m

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\x00" * 40


@pytest.fixture
def mailbox(db, bob):
    return Mailbox.objects.create(name="Desk", kind=Mailbox.Kind.RECEIVER, address="desk@localhost", team=bob.team)


def ingest(raw, mailbox):
    return services.mail_ingest(raw=raw, mailbox=mailbox)


def test_a_new_message_opens_a_ticket_for_the_sender(alice, mailbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        record = ingest(m.new_message(attachment=("screen.png", "image/png", PNG)), mailbox)
    assert record.outcome == InboundMessage.Outcome.TICKET
    ticket = record.ticket
    assert (ticket.title, ticket.description, ticket.requester, ticket.channel) == (
        "Laptop will not boot", "It shows a black screen.", alice, "email")
    assert ticket.team == mailbox.team
    assert Attachment.objects.get(ticket=ticket).content_type == "image/png"


def test_html_only_mail_is_sanitised_to_text(alice, mailbox):
    ticket = ingest(m.html_message(), mailbox).ticket
    assert ticket.description == "The screen **flickers**."


def test_the_same_message_id_is_imported_once(alice, mailbox):
    raw = m.new_message(message_id="<once@mail.example.com>")
    first, again = ingest(raw, mailbox), ingest(raw, mailbox)
    assert first.pk == again.pk and Ticket.objects.count() == 1


def test_a_reply_by_tag_becomes_a_comment_without_the_quote(alice, mailbox):
    ticket = tickets.ticket_create(actor=alice, kind="incident", title="Laptop will not boot")
    record = ingest(m.reply(subject=f"Re: [{ticket.number}] Laptop will not boot"), mailbox)
    assert record.outcome == InboundMessage.Outcome.COMMENT
    comment = Comment.objects.get(ticket=ticket)
    assert (comment.body, comment.channel, comment.author) == ("It works again, thanks.", "email", alice)


def test_a_reply_to_a_notification_threads_and_marks_it_read(alice, bob, mailbox, django_capture_on_commit_callbacks):
    ticket = tickets.ticket_create(actor=alice, kind="incident", title="Laptop will not boot")
    with django_capture_on_commit_callbacks(execute=True):
        tickets.comment_add(actor=bob, ticket=ticket, body="Have you tried turning it off and on again?")
    sent = [e for e in mail.outbox if e.to == ["alice@example.com"]]
    assert len(sent) == 1
    headers = sent[0].extra_headers
    assert headers["In-Reply-To"] == headers["References"] == f"<ticket-{ticket.pk}.thread@servicedesk.localhost>"
    assert headers["Reply-To"] == "Service Desk <desk@localhost>" and f"[{ticket.number}]" in sent[0].subject
    assert MailSent.objects.filter(message_id=headers["Message-ID"], object_key=str(ticket.pk)).exists()
    assert Notification.objects.filter(recipient=alice, read=False).count() == 1

    record = ingest(m.reply(subject="Re: your laptop", in_reply_to=headers["Message-ID"]), mailbox)
    assert record.comment.ticket == ticket and record.comment.body == "It works again, thanks."
    assert not Notification.objects.filter(recipient=alice, read=False).exists()


def test_auto_replies_bulk_and_our_own_mail_are_ignored(alice, mailbox):
    ticket = tickets.ticket_create(actor=alice, kind="incident", title="Laptop")
    auto = ingest(m.auto_reply(subject=f"Out of office: [{ticket.number}]"), mailbox)
    own = ingest(m.new_message(message_id=mail_threads.message_id_for("notification:1:email")), mailbox)
    assert auto.outcome == own.outcome == InboundMessage.Outcome.IGNORED
    assert not Comment.objects.exists() and Ticket.objects.count() == 1


def test_a_bounce_stops_mail_to_the_address(alice, bob, mailbox, django_capture_on_commit_callbacks):
    record = ingest(m.bounce(failed="alice@example.com"), mailbox)
    assert record.outcome == InboundMessage.Outcome.IGNORED and feeds.mail_address_suppressed("Alice@Example.com")
    ticket = tickets.ticket_create(actor=alice, kind="incident", title="Laptop")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        tickets.comment_add(actor=bob, ticket=ticket, body="On it.")
    assert not [e for e in mail.outbox if "alice@example.com" in e.to]


def test_a_forged_reply_to_a_private_ticket_is_refused_and_never_appended(alice, erin, mailbox):
    private = tickets.ticket_create(actor=alice, kind="incident", title="My salary slip", visibility="private")
    mail.outbox.clear()
    record = ingest(m.reply(sender="erin@example.com", subject=f"Re: [{private.number}] My salary slip"), mailbox)
    assert record.outcome == InboundMessage.Outcome.REFUSED
    assert not Comment.objects.filter(ticket=private).exists()
    assert not mail.outbox  # nothing tells the sender the ticket exists


def test_broken_mime_is_listed_with_its_reason(alice, mailbox):
    record = ingest(m.broken_mime(), mailbox)
    assert record.outcome == InboundMessage.Outcome.FAILED and "Broken MIME" in record.reason
    assert not Ticket.objects.exists()


def test_unknown_senders_are_refused_politely_or_get_an_account(db, mailbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        refused = ingest(m.new_message(sender="stranger@example.org"), mailbox)
    assert refused.outcome == InboundMessage.Outcome.REFUSED and not Ticket.objects.exists()
    assert mail.outbox[-1].to == ["stranger@example.org"] and mail.outbox[-1].extra_headers["Auto-Submitted"] == "auto-replied"

    mailbox.unknown_senders = Mailbox.UnknownSenders.CREATE
    mailbox.save()
    created = ingest(m.new_message(sender="Sam Newman <sam@example.org>"), mailbox)
    assert created.ticket.requester.email == "sam@example.org" and created.ticket.requester.role == "end_user"


def test_oversized_mail_is_refused_with_a_reply(alice, mailbox, settings, django_capture_on_commit_callbacks):
    settings.INBOUND_MAIL_MAX_BYTES = 2000
    with django_capture_on_commit_callbacks(execute=True):
        record = ingest(m.new_message(body="x" * 3000), mailbox)
    assert record.outcome == InboundMessage.Outcome.REFUSED and not Ticket.objects.exists()
    assert mail.outbox[-1].to == ["alice@example.com"]


def test_one_sender_is_rate_limited(alice, mailbox, settings):
    settings.INBOUND_MAIL_PER_SENDER_PER_HOUR = 2
    outcomes = [ingest(m.new_message(subject=f"Problem {n}"), mailbox).outcome for n in range(3)]
    assert outcomes == ["ticket", "ticket", "refused"] and Ticket.objects.count() == 2


def test_a_reply_to_a_closed_ticket_is_refused_not_lost(alice, bob, mailbox):
    ticket = tickets.ticket_create(actor=alice, kind="incident", title="Laptop")
    tickets.ticket_update(actor=bob, ticket=ticket, status="resolved")
    Ticket.objects.filter(pk=ticket.pk).update(status="closed")
    record = ingest(m.reply(subject=f"Re: [{ticket.number}] Laptop"), mailbox)
    assert record.outcome == InboundMessage.Outcome.REFUSED and "closed" in record.reason
