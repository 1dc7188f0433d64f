import io
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts import services as account_services
from accounts.models import LoginRecord
from feeds import selectors as feed_selectors
from feeds.models import Notification
from servicedesk.errors import ApplicationError, Forbidden
from tickets import services
from tickets.models import Status, Ticket
from tickets.services import ticket_follows

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "impact, urgency, priority",
    [(1, 1, 1), (1, 2, 2), (2, 1, 2), (1, 3, 3), (2, 2, 3), (3, 1, 3), (2, 3, 4), (3, 2, 4), (3, 3, 4)],
)
def test_priority_matrix(impact, urgency, priority):
    assert services.priority_from(impact, urgency) == priority


def test_transitions_are_enforced(alice, bob, open_ticket):
    ticket = open_ticket(alice)
    with pytest.raises(ApplicationError):
        services.ticket_update(actor=bob, ticket=ticket, status="closed")
    for step in ("in_progress", "pending", "in_progress", "resolved", "closed"):
        ticket = services.ticket_update(actor=bob, ticket=ticket, status=step)
    assert ticket.closed_at and ticket.resolved_at
    with pytest.raises(ApplicationError):
        services.ticket_update(actor=bob, ticket=ticket, status="in_progress")


def test_requester_reopens_within_the_window_only(alice, erin, bob, open_ticket, settings):
    ticket = open_ticket(alice, visibility="public")
    services.ticket_update(actor=bob, ticket=ticket, status="resolved")
    with pytest.raises(Forbidden):
        services.ticket_reopen(actor=erin, ticket=ticket)
    with time_machine.travel(timezone.now() + timedelta(days=settings.TICKET_REOPEN_DAYS + 1)):
        with pytest.raises(ApplicationError):
            services.ticket_reopen(actor=alice, ticket=ticket)
    ticket = services.ticket_reopen(actor=alice, ticket=ticket, reason="Still broken")
    assert ticket.status == Status.IN_PROGRESS and ticket.resolved_at is None


def test_stale_resolved_tickets_close(alice, bob, open_ticket, settings):
    ticket = open_ticket(alice)
    services.ticket_update(actor=bob, ticket=ticket, status="resolved")
    assert services.ticket_close_stale() == 0
    later = timezone.now() + timedelta(days=settings.TICKET_REOPEN_DAYS, hours=1)
    assert services.ticket_close_stale(now=later) == 1
    assert Ticket.objects.get(pk=ticket.pk).status == Status.CLOSED


def test_requester_reply_on_pending_resumes_the_ticket(alice, bob, open_ticket):
    ticket = open_ticket(alice)
    services.ticket_update(actor=bob, ticket=ticket, status="pending")
    services.comment_add(actor=alice, ticket=ticket, body="Here is the log you asked for")
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS and ticket.sla_paused_at is None


def test_followers_are_automatic_and_notified_once(alice, erin, bob, open_ticket):
    ticket = open_ticket(alice, visibility="public")
    services.ticket_follow(actor=erin, ticket=ticket)
    services.ticket_update(actor=bob, ticket=ticket, assignee=bob)
    reasons = dict(ticket_follows(ticket).values_list("user__username", "reason"))
    assert reasons == {"alice": "requester", "erin": "manual", "bob": "assignee"}
    Notification.objects.all().delete()
    services.comment_add(actor=bob, ticket=ticket, body="Rebooting the switch")
    assert sorted(Notification.objects.values_list("recipient__username", flat=True)) == ["alice", "erin"]


def test_problem_resolution_resolves_linked_incidents_with_one_note(alice, erin, bob, open_ticket):
    problem = services.ticket_create(actor=bob, kind="problem", title="DHCP pool exhausted", impact=1, urgency=2)
    first, second = open_ticket(alice), open_ticket(erin, title="No network")
    with pytest.raises(Forbidden):
        services.problem_link(actor=alice, problem=problem, incident=first)
    with pytest.raises(ApplicationError):
        services.problem_link(actor=bob, problem=first, incident=second)
    for incident in (first, second):
        services.problem_link(actor=bob, problem=problem, incident=incident)
    Notification.objects.all().delete()
    resolved = services.problem_resolve(actor=bob, problem=problem, note="The pool was enlarged.")
    assert {t.pk for t in resolved} == {problem.pk, first.pk, second.pk}
    assert set(Ticket.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True)) == {"resolved"}
    told = set(Notification.objects.filter(kind="ticket.status").values_list("recipient__username", flat=True))
    assert {"alice", "erin"} <= told


def test_mentioning_a_ticket_number_tells_its_followers(alice, erin, bob, open_ticket):
    older = open_ticket(erin, visibility="public", title="Wi-Fi down in B")
    newer = open_ticket(alice, visibility="public", title="Wi-Fi down in A")
    Notification.objects.all().delete()
    services.comment_add(actor=bob, ticket=newer, body=f"Same cause as {older.number}, I think.")
    mention = Notification.objects.get(kind="ticket.mentioned")
    assert mention.recipient == erin and newer.number in mention.text


def test_an_internal_mention_reaches_nobody_outside(alice, erin, bob, open_ticket):
    older = open_ticket(erin, visibility="public", title="Wi-Fi down in B")
    newer = open_ticket(alice, visibility="public", title="Wi-Fi down in A")
    Notification.objects.all().delete()
    services.comment_add(actor=bob, ticket=newer, body=f"Related to {older.number}", internal=True)
    assert not Notification.objects.filter(recipient=erin).exists()


def test_internal_notes_never_reach_end_users(alice, bob, open_ticket, django_capture_on_commit_callbacks):
    ticket = open_ticket(alice, visibility="public")
    services.ticket_update(actor=bob, ticket=ticket, assignee=bob)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.comment_add(actor=bob, ticket=ticket, body="Secret: the admin password is hunter2", internal=True)
    # Feed / resume, with and without a subscription to the ticket's stream.
    for streams in (frozenset(), frozenset({f"ticket:{ticket.pk}"})):
        seen = feed_selectors.activities_since(user=alice, since=0, streams=streams)
        assert all("hunter2" not in a.summary for a in seen)
    assert not Notification.objects.filter(recipient=alice, kind="ticket.note").exists()
    assert all("hunter2" not in m.body and "hunter2" not in m.subject for m in mail.outbox if "alice@" in m.to[0])
    assert feed_selectors.activities_since(user=bob, since=0, streams=frozenset({f"ticket:{ticket.pk}"}))


def test_security_report_opens_a_private_incident_for_the_security_team(alice, erin, dave, client):
    client.post("/accounts/login/", {"username": "alice", "password": "wrong"}, HTTP_USER_AGENT="stranger")
    record = LoginRecord.objects.get(user=alice)
    report = account_services.signin_report(actor=alice, login_id=record.pk, note="I was asleep")
    ticket = report.ticket
    assert ticket.visibility == "private" and ticket.requester == alice and ticket.team.slug == "security"
    assert "stranger" in ticket.description and "I was asleep" in ticket.description
    assert ticket_follows(ticket).filter(user=alice).exists()
    assert Notification.objects.get(recipient=dave, kind="security.report").url == ticket.get_absolute_url()
    from tickets.selectors import can_see

    assert not can_see(erin, ticket)


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_attachments_are_checked_by_content(alice, erin, bob, open_ticket, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    ticket = open_ticket(alice)
    ok = services.attachment_add(actor=alice, ticket=ticket, upload=SimpleUploadedFile("shot.png", PNG))
    assert ok.content_type == "image/png"
    text = services.attachment_add(actor=alice, ticket=ticket, upload=SimpleUploadedFile("log.exe", b"plain words\n"))
    assert text.content_type == "text/plain", "the name does not decide the type"
    for name, content in [("evil.png", b"MZ\x90\x00\x03" + b"\x00" * 100), ("x.txt", b"\x00\x01binary")]:
        with pytest.raises(ApplicationError):
            services.attachment_add(actor=alice, ticket=ticket, upload=SimpleUploadedFile(name, content))
    settings.ATTACHMENT_MAX_BYTES = 10
    with pytest.raises(ApplicationError) as too_big:
        services.attachment_add(actor=alice, ticket=ticket, upload=SimpleUploadedFile("big.txt", b"x" * 11))
    assert "file" in too_big.value.errors
    with pytest.raises(ApplicationError) as hidden:
        services.attachment_add(actor=erin, ticket=ticket, upload=SimpleUploadedFile("a.txt", b"x"))
    assert hidden.value.status == 404


def test_attachment_download_permissions_and_headers(api_as, alice, erin, bob, open_ticket, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    ticket = open_ticket(alice)
    upload = api_as(alice).post(
        f"/api/v1/tickets/{ticket.pk}/attachments/", {"file": io.BytesIO(PNG)}, format="multipart"
    )
    assert upload.status_code == 201, upload.content
    token = upload.json()["id"]
    api_as(alice).post(f"/api/v1/tickets/{ticket.pk}/comments/", {"body": "screenshot", "attachments": [token]}, format="json")
    response = api_as(bob).get(f"/api/v1/attachments/{token}/")
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content) == PNG
    assert api_as(erin).get(f"/api/v1/attachments/{token}/").status_code == 404
    big = api_as(alice).post(f"/api/v1/tickets/{ticket.pk}/attachments/", {"file": io.BytesIO(b"MZ" + b"\x00" * 50)}, format="multipart")
    assert big.status_code == 400 and "file" in big.json()["errors"]


def test_uploads_never_attached_to_a_comment_are_purged_after_the_grace_period(
    alice, bob, settings, tmp_path, django_capture_on_commit_callbacks
):
    from tickets.models import Attachment

    settings.MEDIA_ROOT = str(tmp_path)
    ticket = services.ticket_create(actor=alice, kind="incident", title="Scanner jams")

    def upload():
        return services.attachment_add(
            actor=alice, ticket=ticket, upload=SimpleUploadedFile("scan.txt", b"jam at tray 2\n", content_type="text/plain")
        )

    with time_machine.travel(timezone.now() - timedelta(hours=30), tick=False):
        abandoned = upload()
        claimed = upload()
        services.comment_add(actor=alice, ticket=ticket, body="Here is the scan", attachments=[claimed])
    fresh = upload()

    with django_capture_on_commit_callbacks(execute=True):
        assert services.attachments_unclaimed_purge() == 1
    assert set(Attachment.objects.values_list("pk", flat=True)) == {claimed.pk, fresh.pk}
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == sorted([claimed.token, fresh.token])
    assert abandoned.token not in {p.name for p in tmp_path.rglob("*")}


def test_a_page_of_a_ticket_list_is_the_same_slice_in_two_short_queries(alice, bob, erin):
    from tickets import selectors
    from tickets.models import Kind, Visibility

    for n in range(12):
        ticket = services.ticket_create(
            actor=alice if n % 3 else erin, kind=Kind.INCIDENT, title=f"Ticket {n}", impact=1 + n % 3, urgency=2,
            visibility=Visibility.PUBLIC if n % 2 else Visibility.PRIVATE,
        )
        if n % 4 == 0:
            services.ticket_update(actor=bob, ticket=ticket, assignee=bob, status="in_progress")
    cases = [
        (bob, selectors.TicketFilters()),
        (bob, selectors.TicketFilters(sort="priority")),
        (bob, selectors.TicketFilters(sort="due")),
        (bob, selectors.TicketFilters(assignee="me", sort="updated")),
        (alice, selectors.TicketFilters()),  # her own and public ones only
        (bob, selectors.TicketFilters(q="Ticket")),  # ranked search: one query
    ]
    for user, filters in cases:
        queryset = selectors.ticket_list(user=user, filters=filters)
        for start, stop in ((0, 5), (5, 11), (10, 20)):
            assert [t.pk for t in selectors.page_of(queryset, start, stop)] == [t.pk for t in queryset[start:stop]]
    seen_by_alice = selectors.page_of(selectors.ticket_list(user=alice, filters=selectors.TicketFilters()), 0, 50)
    assert seen_by_alice and all(t.requester == alice or t.visibility == Visibility.PUBLIC for t in seen_by_alice)
