import pytest
from django.urls import reverse

from accounts.models import LoginRecord, SecurityReport
from feeds.models import Notification
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def sign_in(client, username, password, agent="Firefox/140"):
    return client.post(
        reverse("accounts:login"), {"username": username, "password": password}, HTTP_USER_AGENT=agent
    )


def test_success_and_failure_are_recorded_with_ip_and_agent(client, alice):
    assert sign_in(client, "alice", "wrong").status_code == 400
    response = sign_in(client, "alice", PASSWORD)
    assert response.status_code == 302 and response.url == "/"

    rows = list(LoginRecord.objects.filter(user=alice).order_by("id"))
    assert [r.success for r in rows] == [False, True]
    assert rows[0].ip == "127.0.0.1" and rows[0].user_agent == "Firefox/140"


def test_history_page_shows_only_my_own_attempts(client, alice, erin):
    sign_in(client, "erin", "wrong", agent="ErinBrowser/1")
    sign_in(client, "alice", PASSWORD, agent="AliceBrowser/1")
    page = client.get(reverse("accounts:signins"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "AliceBrowser/1" in html
    assert "ErinBrowser/1" not in html


def test_history_api_newest_first_and_private(api, alice, erin):
    client = api
    for agent in ("first", "second"):
        sign_in(client, "alice", PASSWORD, agent=agent)
        client.logout()
    sign_in(client, "erin", PASSWORD, agent="erin-device")
    client.logout()

    client.force_authenticate(alice)
    body = client.get("/api/v1/me/logins/").json()
    assert [row["user_agent"] for row in body["results"]] == ["second", "first"]
    assert {"at", "ip", "user_agent", "success"} <= set(body["results"][0])
    assert body["next"] is None

    client.force_authenticate(erin)
    agents = [row["user_agent"] for row in client.get("/api/v1/me/logins/").json()["results"]]
    assert agents == ["erin-device"]


def test_history_requires_sign_in(client, api):
    assert client.get(reverse("accounts:signins")).status_code == 302
    assert api.get("/api/v1/me/logins/").status_code == 401


def test_this_wasnt_me_stores_a_report_and_alerts_admins(client, alice, dave, django_capture_on_commit_callbacks):
    sign_in(client, "alice", PASSWORD, agent="stranger")
    login_id = LoginRecord.objects.get(user=alice, user_agent="stranger").pk
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:report_signin", args=[login_id]))
    assert response.status_code == 302
    report = SecurityReport.objects.get()
    assert report.reporter == alice and report.login_id == login_id
    alert = Notification.objects.get(recipient=dave)
    assert alert.kind == "security.report" and "Alice Martin" in alert.text
    assert not Notification.objects.filter(recipient=alice, kind="security.report").exists()

    again = client.post(reverse("accounts:report_signin", args=[login_id]), follow=True)
    assert "already reported" in again.content.decode()
    assert SecurityReport.objects.count() == 1


def test_cannot_report_someone_elses_sign_in(client, alice, erin):
    sign_in(client, "erin", PASSWORD)
    erins = LoginRecord.objects.get(user=erin).pk
    client.logout()
    sign_in(client, "alice", PASSWORD)
    assert client.post(reverse("accounts:report_signin", args=[erins])).status_code == 404
    assert not SecurityReport.objects.exists()


def test_report_is_post_only(client, alice):
    sign_in(client, "alice", PASSWORD)
    login_id = LoginRecord.objects.get(user=alice).pk
    assert client.get(reverse("accounts:report_signin", args=[login_id])).status_code == 405


def test_new_device_sign_in_notifies_the_owner(client, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sign_in(client, "alice", PASSWORD, agent="laptop")
    assert not Notification.objects.filter(recipient=alice).exists(), "the first sign-in is not news"
    client.logout()
    with django_capture_on_commit_callbacks(execute=True):
        sign_in(client, "alice", PASSWORD, agent="laptop")
    assert not Notification.objects.filter(recipient=alice).exists(), "a known device is not news"
    client.logout()
    with django_capture_on_commit_callbacks(execute=True):
        sign_in(client, "alice", PASSWORD, agent="unknown-phone")
    note = Notification.objects.get(recipient=alice)
    assert note.kind == "security.sign_in" and "unknown-phone" in note.text


def test_open_redirect_is_refused(client, alice):
    response = client.post(
        reverse("accounts:login"), {"username": "alice", "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response.status_code == 302 and response.url == "/"


def test_a_sign_in_with_a_nul_in_the_username_is_refused_and_recorded_without_it(client, alice):
    from accounts.models import LoginRecord

    response = client.post("/accounts/login/", {"username": "ali\u0000ce", "password": "wrong"})
    assert response.status_code == 400
    assert LoginRecord.objects.filter(username="alice", success=False).exists()
