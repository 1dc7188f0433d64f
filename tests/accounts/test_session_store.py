"""The session store reads its row through a prepared query and still ends a session the moment
its row expires or goes away."""
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db


def signed_in_client(client, user):
    client.force_login(user)
    assert client.get(reverse("tickets:portal")).status_code == 200
    return client


def test_a_live_session_keeps_the_person_signed_in_and_reads_one_row(client, alice, django_assert_num_queries):
    signed_in_client(client, alice)
    from accounts.sessions import SessionStore

    store = SessionStore(client.session.session_key)
    with django_assert_num_queries(1):
        assert store.load()["_auth_user_id"] == str(alice.pk)


def test_an_expired_row_signs_the_person_out_at_once(client, alice):
    signed_in_client(client, alice)
    Session.objects.filter(session_key=client.session.session_key).update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get(reverse("tickets:portal"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


def test_a_deleted_row_or_an_unknown_key_is_no_session(client, alice):
    signed_in_client(client, alice)
    Session.objects.filter(session_key=client.session.session_key).delete()
    assert client.get(reverse("tickets:portal")).status_code == 302
    from accounts.sessions import SessionStore

    assert SessionStore("no-such-key-0123456789abcdef").load() == {}
    assert SessionStore(None).load() == {}
