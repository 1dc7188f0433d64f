from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def attempt(client, password, agent="Browser/1"):
    return client.post(reverse("accounts:login"), {"username": "alice", "password": password}, HTTP_USER_AGENT=agent)


def test_repeated_wrong_passwords_lock_the_account_for_the_cool_off(client, alice):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            assert attempt(client, "wrong").status_code == 400
        locked = attempt(client, "wrong")
        assert locked.status_code == 429
        assert "Too many failed attempts" in locked.content.decode()
        # The right password does not help while locked, from any device.
        assert attempt(client, PASSWORD, agent="Other/2").status_code == 429

    with time_machine.travel(start + settings.AXES_COOLOFF_TIME + timedelta(seconds=5), tick=False):
        response = attempt(client, PASSWORD)
        assert response.status_code == 302


def test_token_endpoint_returns_a_token_and_authenticates(api, alice):
    response = api.post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    me = api.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}")
    assert me.status_code == 200
    body = me.json()
    assert body["username"] == "alice" and body["role"] == "end_user"
    assert {"id", "display_name", "team", "points", "level", "badges"} <= set(body)


def test_token_endpoint_wrong_credentials_is_400_in_the_error_shape(api, alice):
    response = api.post("/api/v1/auth/token/", {"username": "alice", "password": "nope"}, format="json")
    assert response.status_code == 400
    assert response.json()["message"] == "Unable to sign in with these credentials."


def test_token_endpoint_bad_shape_is_400(api, alice):
    response = api.post("/api/v1/auth/token/", {"username": ""}, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"username", "password"}
    garbage = api.post("/api/v1/auth/token/", "{not json", content_type="application/json")
    assert garbage.status_code == 400 and "message" in garbage.json()


def test_token_endpoint_is_throttled(api, alice):
    statuses = [
        api.post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}, format="json").status_code
        for _ in range(11)
    ]
    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429


def test_token_endpoint_locks_out_like_the_page(api, alice):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        api.post("/api/v1/auth/token/", {"username": "alice", "password": "wrong"}, format="json")
    locked = api.post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}, format="json")
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.json()["message"]
