"""E-mail in, on real processes: a Dovecot IMAP server polled by a Celery worker, and the desk's
SMTP receiver. The same six messages give one ticket, one comment without the quote and nothing
else; the broken one is listed; a killed worker loses and duplicates nothing."""
from __future__ import annotations

import smtplib
from email import message_from_bytes, policy

import pytest
from django.core import mail
from imap_tools import AND, MailBoxUnencrypted

from intake import services as intake
from intake.imap import IMPORTED
from intake.models import InboundMessage
from tests.intake import messages as m
from tests.support import dovecot
from tests.support.processes import free_port, spawn, wait_for
from tickets import services as tickets
from tickets.models import Comment, Ticket

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not dovecot.available(), reason="needs Debian's dovecot-imapd (make test installs it) and root"),
]


@pytest.fixture
def imap_server():
    server = dovecot.start()
    yield server
    server.stop()


@pytest.fixture
def receiver(stack_env, log_dir):
    port = free_port()
    proc = spawn("mail", ["-m", "intake.receiver"], {**stack_env, "MAIL_RECEIVER_PORT": str(port)}, log_dir)
    wait_for(lambda: "receiver on 127.0.0.1" in proc.log() or not proc.alive(), timeout=30, what="the receiver")
    assert proc.alive(), proc.log()
    yield port
    proc.stop()


@pytest.fixture
def world(alice, erin, bob, dave):
    """An open ticket alice was told about by e-mail, and a private ticket of hers erin may not see."""
    mail.outbox.clear()
    laptop = tickets.ticket_create(actor=alice, kind="incident", title="Laptop will not boot")
    tickets.comment_add(actor=bob, ticket=laptop, body="Have you tried turning it off and on again?")
    private = tickets.ticket_create(actor=alice, kind="incident", title="My salary slip", visibility="private")
    notification = next(e for e in mail.outbox if e.to == ["alice@example.com"] and laptop.number in e.subject)
    # The notification exactly as it went out on the wire.
    sent = message_from_bytes(notification.message().as_bytes(), policy=policy.default)
    return {"laptop": laptop, "private": private, "sent": sent, "tickets_before": Ticket.objects.count()}


def six_messages(world, round_: int = 1) -> list[bytes]:
    sent = world["sent"]
    assert sent["In-Reply-To"] == sent["References"] == f"<ticket-{world['laptop'].pk}.thread@servicedesk.localhost>"
    assert world["laptop"].number in sent["Subject"] and "desk@localhost" in sent["Reply-To"]
    return [
        m.new_message(subject=f"Printer on floor {round_} is jammed", body="Paper jam, again."),
        m.reply(subject=f"Re: {sent['Subject']}", in_reply_to=sent["Message-ID"]),
        m.auto_reply(subject=f"Automatic reply: {sent['Subject']}"),
        m.bounce(failed="gone@example.com"),
        m.reply(sender="erin@example.com", subject=f"Re: [{world['private'].number}] My salary slip", new="Let me in."),
        m.broken_mime().replace(b"<broken.1@", f"<broken.{round_}@".encode()),
    ]


def assert_imported(world, rounds: int = 1) -> None:
    """Each round of the six messages: one ticket, one comment without the quote, nothing else."""
    assert Ticket.objects.count() == world["tickets_before"] + rounds
    new = Ticket.objects.order_by("-id")[:rounds]
    assert sorted((t.title, t.channel, t.requester.username) for t in new) == [
        (f"Printer on floor {n} is jammed", "email", "alice") for n in range(1, rounds + 1)]
    by_mail = Comment.objects.filter(channel="email")
    assert [(c.ticket_id, c.body) for c in by_mail] == [(world["laptop"].pk, "It works again, thanks.")] * rounds
    assert not Comment.objects.filter(ticket=world["private"]).exists()
    outcomes = sorted(InboundMessage.objects.values_list("outcome", flat=True))
    assert outcomes == sorted(["comment", "failed", "ignored", "ignored", "refused", "ticket"] * rounds)
    assert all("Broken MIME" in r.reason for r in InboundMessage.objects.filter(outcome="failed"))


def imap_mailbox(dave, bob, server):
    return intake.mailbox_save(actor=dave, name="IT", kind="imap", address="it@example.com", host="127.0.0.1",
                               port=server.port, use_tls=False, username=server.user, secret=server.password,
                               folder="INBOX", team=bob.team, unknown_senders="refuse")


def append(server, raws) -> None:
    with MailBoxUnencrypted("127.0.0.1", server.port, timeout=10).login(server.user, server.password) as box:
        for raw in raws:
            box.append(raw, "INBOX")


def not_marked(server) -> list[str]:
    with MailBoxUnencrypted("127.0.0.1", server.port, timeout=10).login(server.user, server.password) as box:
        return box.uids(AND(no_keyword=IMPORTED))


def test_imap_and_the_smtp_receiver_import_each_message_once(world, dave, bob, imap_server, receiver, start_worker):
    mailbox = imap_mailbox(dave, bob, imap_server)
    append(imap_server, six_messages(world, 1))
    start_worker(beat=True, env_overrides={"MAIL_POLL_SECONDS": "1"})
    wait_for(lambda: InboundMessage.objects.count() == 6 and not not_marked(imap_server), timeout=60,
             what="the mailbox to be imported")
    assert_imported(world)
    mailbox.refresh_from_db()
    assert mailbox.last_polled_at is not None and mailbox.last_error == ""
    # Later polls read nothing new and import nothing twice.
    polled = mailbox.last_polled_at
    wait_for(lambda: type(mailbox).objects.get(pk=mailbox.pk).last_polled_at > polled, timeout=20, what="another poll")
    assert_imported(world)

    # The same kinds of message, delivered to the receiver: the same outcome once more.
    intake.mailbox_save(actor=dave, name="Desk", kind="receiver", address="desk@localhost", team=bob.team,
                        unknown_senders="refuse")
    with smtplib.SMTP("127.0.0.1", receiver, timeout=20) as smtp:
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            smtp.sendmail("alice@example.com", ["nobody@localhost"], m.new_message())
        for raw in six_messages(world, 2):
            sender = message_from_bytes(raw, policy=policy.default)["From"].addresses[0].addr_spec
            smtp.sendmail(sender, ["desk@localhost"], raw)
    assert_imported(world, rounds=2)


def test_a_wrong_imap_password_is_shown_to_admins_never_the_secret(dave, bob, imap_server):
    mailbox = imap_mailbox(dave, bob, imap_server)
    intake.mailbox_save(actor=dave, mailbox=mailbox, secret="wrong-password-123")
    intake.mailbox_poll(mailbox_id=mailbox.pk)
    mailbox.refresh_from_db()
    assert mailbox.last_error and "wrong-password-123" not in mailbox.last_error


def test_killing_the_worker_mid_import_loses_and_duplicates_nothing(alice, dave, bob, imap_server, start_worker):
    mailbox = imap_mailbox(dave, bob, imap_server)
    count = 20
    append(imap_server, [m.new_message(subject=f"Request {n}", message_id=f"<req-{n}@mail.example.com>") for n in range(count)])
    busy = {"MAIL_POLL_SECONDS": "1", "INBOUND_MAIL_PER_SENDER_PER_HOUR": "1000"}  # one sender writes them all
    doomed = start_worker(beat=True, name="doomed", env_overrides=busy)
    wait_for(lambda: InboundMessage.objects.exists(), timeout=60, interval=0.01, what="the import to start")
    doomed.kill()
    at_kill = InboundMessage.objects.count()
    assert at_kill < count, "the worker finished before it could be killed"
    start_worker(beat=True, name="survivor", env_overrides=busy)
    wait_for(lambda: InboundMessage.objects.count() == count and not not_marked(imap_server), timeout=90,
             what="the rest of the mailbox")
    titles = list(Ticket.objects.filter(channel="email").values_list("title", flat=True))
    assert sorted(titles) == sorted(f"Request {n}" for n in range(count))
    assert set(InboundMessage.objects.values_list("outcome", flat=True)) == {"ticket"}
    assert InboundMessage.objects.filter(mailbox=mailbox).count() == count


