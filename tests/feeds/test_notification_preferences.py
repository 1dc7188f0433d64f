from datetime import datetime, timezone as dt_timezone

import pytest
import time_machine
from django.core import mail

from feeds import services
from feeds.audience import Audience
from feeds.models import Notification, OutboxMessage
from feeds.services import NotificationSpec, ObjectRef

pytestmark = pytest.mark.django_db
UTC = dt_timezone.utc


def tell(person, kind="ticket.reply", text="Bob replied"):
    return services.activity_publish(
        actor=None, verb="did", obj=ObjectRef("user", person.username), audience=Audience.of(users=[person.pk]),
        notify=[person], notification=NotificationSpec(kind=kind, text=text, url="/x/"),
    )


def test_defaults_are_sensible(api_as, alice, django_capture_on_commit_callbacks):
    body = api_as(alice).get("/api/v1/me/notification-preferences/").json()
    kinds = {k["kind"]: k for k in body["kinds"]}
    assert kinds["ticket.reply"]["email"] is True and kinds["post.like"]["email"] is False
    with django_capture_on_commit_callbacks(execute=True):
        tell(alice, kind="post.like", text="Erin liked your post")
    assert Notification.objects.filter(recipient=alice).count() == 1 and not mail.outbox


def test_turning_a_kind_off_per_channel(api_as, alice, django_capture_on_commit_callbacks):
    client = api_as(alice)
    response = client.put("/api/v1/me/notification-preferences/", {"kinds": {"ticket.reply": {"in_app": False, "email": True}}}, format="json")
    assert response.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        tell(alice)
    note = Notification.objects.get(recipient=alice)
    assert note.read is True, "not shown as unread in the app"
    assert len(mail.outbox) == 1
    client.put("/api/v1/me/notification-preferences/", {"kinds": {"ticket.reply": {"in_app": False, "email": False}}}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        tell(alice, text="Again")
    assert Notification.objects.filter(recipient=alice).count() == 1 and len(mail.outbox) == 1


def test_bad_preferences_are_400(api_as, alice):
    client = api_as(alice)
    for body in ({"kinds": {"weather": {"email": True}}}, {"time_zone": "Mars/Olympus"},
                 {"quiet_hours_start": "22:00"}, {"quiet_hours_start": "25:00", "quiet_hours_end": "07:00"},
                 {"kinds": {"ticket.reply": {"email": "sometimes"}}}):
        response = client.put("/api/v1/me/notification-preferences/", body, format="json")
        assert response.status_code == 400, body


def test_quiet_hours_hold_email_until_morning(api_as, alice, django_capture_on_commit_callbacks):
    api_as(alice).put(
        "/api/v1/me/notification-preferences/",
        {"quiet_hours_start": "22:00", "quiet_hours_end": "07:00", "time_zone": "Europe/Paris"}, format="json",
    )
    night = datetime(2026, 3, 10, 22, 30, tzinfo=UTC)  # 23:30 in Paris
    with time_machine.travel(night, tick=False), django_capture_on_commit_callbacks(execute=True):
        tell(alice)
        tell(alice, kind="security.sign_in", text="New sign-in")
    assert [m.subject for m in mail.outbox] == ["[Service Desk] New sign-in"], "security is never held"
    held = OutboxMessage.objects.get(kind="email", status="pending")
    assert held.next_attempt_at == datetime(2026, 3, 11, 6, 0, tzinfo=UTC)  # 07:00 in Paris
    with time_machine.travel(datetime(2026, 3, 11, 6, 1, tzinfo=UTC), tick=False):
        services.outbox_sweep()
    assert len(mail.outbox) == 2


def test_daily_digest_replaces_single_emails(api_as, alice, django_capture_on_commit_callbacks):
    api_as(alice).put("/api/v1/me/notification-preferences/", {"email_digest": True}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        tell(alice, text="First update")
        tell(alice, text="Second update")
    assert not mail.outbox
    with django_capture_on_commit_callbacks(execute=True):
        assert services.digests_send() == 1
        assert services.digests_send() == 0, "one digest a day"
    assert len(mail.outbox) == 1
    assert "First update" in mail.outbox[0].body and "Second update" in mail.outbox[0].body
