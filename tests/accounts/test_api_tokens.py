"""API tokens: stored as digests, shown once, expiring, rotatable, revocable; old tokens migrated."""
import hashlib
import importlib
from datetime import timedelta

import pytest
import time_machine
from django.apps import apps as django_apps
from django.conf import settings
from django.db import connection
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts import services
from accounts.models import ApiToken
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def obtain(username="alice"):
    response = APIClient().post("/api/v1/auth/token/", {"username": username, "password": PASSWORD}, format="json")
    assert response.status_code == 200
    return response.json()


def me(key):
    return APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}")


def test_only_a_digest_of_the_token_is_stored(alice):
    body = obtain()
    key = body["token"]
    row = ApiToken.objects.get(user=alice)
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert row.prefix == key[:8] and len(key) >= 40
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apitoken")
        stored = " ".join(str(v) for r in cursor.fetchall() for v in r)
    assert key not in stored
    assert not Token.objects.exists()  # nothing in DRF's plain-text table either
    assert me(key).status_code == 200
    # The key is shown once: asking again issues another token, never the same key.
    assert obtain()["token"] != key


def test_a_token_expires_after_the_ttl_with_a_401_in_the_error_shape(alice):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        body = obtain()
    assert body["expires_at"].startswith((start + timedelta(hours=settings.API_TOKEN_TTL_HOURS)).strftime("%Y-%m-%dT%H"))
    ttl = timedelta(hours=settings.API_TOKEN_TTL_HOURS)
    with time_machine.travel(start + ttl - timedelta(minutes=1), tick=False):
        assert me(body["token"]).status_code == 200
    with time_machine.travel(start + ttl + timedelta(seconds=1), tick=False):
        expired = me(body["token"])
        assert expired.status_code == 401
        assert expired["WWW-Authenticate"] == "Token"
        assert set(expired.json()) == {"message"} and "expired" in expired.json()["message"]
        # An expired token cannot be rotated either.
        rotate = APIClient().post("/api/v1/auth/token/rotate/", HTTP_AUTHORIZATION=f"Token {body['token']}")
        assert rotate.status_code == 401 and "message" in rotate.json()


def test_ttl_is_configurable(alice, settings):
    settings.API_TOKEN_TTL_HOURS = 1
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        key = obtain()["token"]
    with time_machine.travel(start + timedelta(minutes=61), tick=False):
        assert me(key).status_code == 401


def test_rotation_swaps_the_token_and_the_old_one_stops_working(alice):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        old = obtain()["token"]
    later = start + timedelta(hours=settings.API_TOKEN_TTL_HOURS - 1)
    with time_machine.travel(later, tick=False):
        response = APIClient().post("/api/v1/auth/token/rotate/", HTTP_AUTHORIZATION=f"Token {old}")
        assert response.status_code == 200
        new = response.json()["token"]
        assert new != old
        assert me(new).status_code == 200
        assert me(old).status_code == 401
        again = APIClient().post("/api/v1/auth/token/rotate/", HTTP_AUTHORIZATION=f"Token {old}")
        assert again.status_code == 401
    # The new token runs a full TTL from the rotation.
    with time_machine.travel(later + timedelta(hours=settings.API_TOKEN_TTL_HOURS - 1), tick=False):
        assert me(new).status_code == 200


def test_rotation_and_revocation_need_a_token(alice, api_as, api):
    session_like = api_as(alice)  # authenticated, but not with a token
    assert session_like.post("/api/v1/auth/token/rotate/").status_code == 400
    assert session_like.post("/api/v1/auth/token/revoke/").status_code == 400
    assert api.post("/api/v1/auth/token/rotate/").status_code == 401
    assert api.post("/api/v1/auth/token/rotate/", HTTP_AUTHORIZATION="Token not-a-token").status_code == 401


def test_revoking_a_token_signs_the_client_out(alice):
    key = obtain()["token"]
    other = obtain()["token"]
    response = APIClient().post("/api/v1/auth/token/revoke/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 204
    assert me(key).status_code == 401
    assert me(other).status_code == 200  # only that one


def test_a_person_keeps_a_bounded_number_of_live_tokens(alice, settings):
    settings.API_TOKEN_MAX_ACTIVE = 3
    keys = [services.api_token_create(user=alice)[1] for _ in range(5)]
    assert [me(k).status_code for k in keys] == [401, 401, 200, 200, 200]


def test_an_inactive_account_s_token_does_not_work(alice):
    key = obtain()["token"]
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    assert me(key).status_code == 401


def test_existing_plain_text_tokens_are_hashed_by_the_migration_and_keep_working(alice, erin):
    legacy_alice = Token.objects.create(user=alice).key
    legacy_erin = Token.objects.create(user=erin).key
    migration = importlib.import_module("accounts.migrations.0005_hash_existing_api_tokens")
    migration.hash_existing_tokens(django_apps, None)

    assert not Token.objects.exists()
    assert ApiToken.objects.get(user=alice).key_hash == hashlib.sha256(legacy_alice.encode()).hexdigest()
    assert me(legacy_alice).json()["username"] == "alice"
    assert me(legacy_erin).json()["username"] == "erin"
    # Migrated tokens expire like any other, a full TTL after the migration.
    with time_machine.travel(timezone.now() + timedelta(hours=settings.API_TOKEN_TTL_HOURS, minutes=1), tick=False):
        assert me(legacy_alice).status_code == 401


def test_tokens_expired_or_revoked_over_a_week_ago_are_purged(alice, settings):
    settings.API_TOKEN_TTL_HOURS = 24
    expired, _ = services.api_token_create(user=alice)
    revoked, _ = services.api_token_create(user=alice)
    services.api_token_revoke(actor=alice, token=revoked)
    with time_machine.travel(timezone.now() + timedelta(days=7, hours=12), tick=False):
        recent, _ = services.api_token_create(user=alice)
        services.api_token_revoke(actor=alice, token=recent)
        assert services.api_tokens_purge() == 1  # revoked a week and a half ago; expired only 6.5 days ago
    with time_machine.travel(timezone.now() + timedelta(days=9), tick=False):
        assert services.api_tokens_purge() == 1
    assert list(ApiToken.objects.values_list("pk", flat=True)) == [recent.pk]
