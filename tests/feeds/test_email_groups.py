"""A batch of notification e-mails reads what they need once; each row is still sent once, in its own transaction."""
import pytest
from django.core import mail

from feeds import mail_threads, services
from feeds.models import MailSent, OutboxMessage
from tickets import services as tickets

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued_emails(make_user, alice, bob, settings, monkeypatch, django_capture_on_commit_callbacks):
    """A comment on an incident with 23 followers, its delivery chunks done, its e-mails queued."""
    from feeds.tasks import outbox_deliver, outbox_deliver_batch

    settings.FANOUT_INLINE_MAX = 0
    ticket = tickets.ticket_create(actor=alice, kind="incident", title="VPN is down", visibility="public")
    followers = [make_user(f"g{n}") for n in range(23)]
    for person in followers:
        tickets.ticket_follow(actor=person, ticket=ticket)
    published = []
    monkeypatch.setattr(outbox_deliver, "apply_async", lambda args, **k: published.append(args[0]))
    monkeypatch.setattr(outbox_deliver_batch, "apply_async", lambda args, **k: published.append(args[0]))
    with django_capture_on_commit_callbacks(execute=True):
        tickets.comment_add(actor=bob, ticket=ticket, body="Working on it")
    for row in OutboxMessage.objects.filter(kind__in=["deliver", "fanout"]):
        with django_capture_on_commit_callbacks(execute=True):
            services.outbox_message_deliver(message_id=row.pk)
    mail.outbox.clear()
    ids = list(OutboxMessage.objects.filter(kind="email", status="pending").order_by("id").values_list("id", flat=True))
    assert len(ids) == 24  # the followers and the requester
    return ticket, followers, ids


def test_a_batch_sends_every_email_once_in_a_few_queries_each(queued_emails, django_assert_num_queries):
    ticket, _, ids = queued_emails
    # Once for the batch: its rows' payloads, their notifications, suppressed addresses and the
    # ticket's thread tag. Per e-mail: the row's lock, its sent record and its status, in a
    # transaction of its own (a savepoint and its release inside the test's transaction).
    with django_assert_num_queries(4 + 24 * 5):
        assert services.outbox_messages_deliver(message_ids=ids) == 24
    assert len(mail.outbox) == 24
    assert len({m.to[0] for m in mail.outbox}) == 24
    root = mail_threads.Thread("ticket", str(ticket.pk), ticket.number).root_id
    assert all(m.extra_headers["In-Reply-To"] == root for m in mail.outbox)
    assert all(f"[{ticket.number}]" in m.subject for m in mail.outbox)
    assert MailSent.objects.filter(object_type="ticket", object_key=str(ticket.pk)).count() == 24
    rows = OutboxMessage.objects.filter(pk__in=ids)
    assert set(rows.values_list("status", "attempts")) == {("sent", 1)}

    assert services.outbox_messages_deliver(message_ids=ids) == 0, "sent rows are never sent again"
    assert len(mail.outbox) == 24


def test_a_suppressed_address_in_a_group_gets_nothing(queued_emails):
    _, followers, ids = queued_emails
    services.mail_address_suppress(address=followers[3].email.upper(), reason="bounced")
    assert services.outbox_messages_deliver(message_ids=ids) == 24
    assert followers[3].email not in {m.to[0] for m in mail.outbox}
    assert len(mail.outbox) == 23


def test_one_failing_send_leaves_the_rest_of_its_group_sent(queued_emails, monkeypatch):
    _, followers, ids = queued_emails
    original = services._SENDERS[OutboxMessage.Kind.EMAIL]
    failing = {ids[4]}

    def flaky(message):
        if message.pk in failing:
            raise ConnectionError("mail server hung up")
        original(message)

    monkeypatch.setitem(services._SENDERS, OutboxMessage.Kind.EMAIL, flaky)
    assert services.outbox_messages_deliver(message_ids=ids) == 23
    failed = OutboxMessage.objects.get(pk=ids[4])
    assert failed.status == "pending" and failed.attempts == 1 and "hung up" in failed.last_error
    assert OutboxMessage.objects.filter(pk__in=ids, status="sent").count() == 23
    assert len(mail.outbox) == 23

    failing.clear()
    failed.next_attempt_at = failed.created_at
    failed.save(update_fields=["next_attempt_at"])
    assert services.outbox_messages_deliver(message_ids=ids) == 1
    failed.refresh_from_db()
    assert failed.status == "sent" and failed.attempts == 2
    assert len(mail.outbox) == 24 and len({m.to[0] for m in mail.outbox}) == 24
