import pytest

from feeds.models import FeedToken, NotificationPreference

pytestmark = pytest.mark.django_db


def test_preferences_page_saves_choices(client, alice):
    client.force_login(alice)
    page = client.get("/account/notifications/")
    assert page.status_code == 200 and "Replies on tickets I follow" in page.content.decode()
    response = client.post("/account/notifications/", {
        "ticket.reply:in_app": "on", "time_zone": "Europe/Paris", "quiet_hours_start": "22:00",
        "quiet_hours_end": "07:00", "email_digest": "on",
    })
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.email_digest and alice.time_zone == "Europe/Paris" and alice.quiet_hours_start.hour == 22
    reply = NotificationPreference.objects.get(user=alice, kind="ticket.reply")
    assert reply.in_app and not reply.email


def test_bad_settings_are_a_400_that_keeps_the_input(client, alice):
    client.force_login(alice)
    response = client.post("/account/notifications/", {"time_zone": "Mars/Olympus", "quiet_hours_start": "22:00"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Mars/Olympus" in body and "could not be saved" in body


def test_feed_links_are_created_and_revoked_by_their_owner_only(client, alice, erin):
    client.force_login(alice)
    response = client.post("/account/notifications/", {"action": "feed_link", "label": "Reader"})
    assert response.status_code == 200 and "/rss/" in response.content.decode()
    token = FeedToken.objects.get(user=alice)
    client.force_login(erin)
    assert client.post(f"/account/feed-links/{token.pk}/revoke/").status_code == 404
    client.force_login(alice)
    assert client.post(f"/account/feed-links/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
