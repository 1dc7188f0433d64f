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


def test_the_user_behind_a_session_is_read_through_the_backend_and_deactivation_ends_it(client, alice, make_user):
    from accounts import services as accounts_services
    from accounts.backends import ModelBackend
    from accounts.models import Role

    signed_in_client(client, alice)
    assert client.session["_auth_user_backend"] == "accounts.backends.ModelBackend"
    backend = ModelBackend()
    assert backend.get_user(alice.pk) == alice and backend.get_user(str(alice.pk)) == alice
    for nonsense in (None, "", "abc", -1, 0, 2**63, alice.pk + 10**6):
        assert backend.get_user(nonsense) is None
    accounts_services.user_deactivate(actor=make_user("root", role=Role.ADMIN), user=alice)
    assert backend.get_user(alice.pk) is None
    assert client.get(reverse("tickets:portal")).status_code == 302


def test_a_changed_password_signs_the_other_sessions_out(client, alice):
    signed_in_client(client, alice)
    alice.set_password("a whole new secret 42")
    alice.save(update_fields=["password"])
    assert client.get(reverse("tickets:portal")).status_code == 302


def test_whether_a_session_exists_is_one_compiled_read(client, alice, django_assert_num_queries):
    """Asked on every live account check of a socket opened with a session cookie."""
    from accounts.sessions import SessionStore

    signed_in_client(client, alice)
    key = client.session.session_key
    with django_assert_num_queries(1):
        assert SessionStore().exists(key)
    assert not SessionStore().exists("no-such-key-0123456789abcdef")
    with django_assert_num_queries(0):
        assert not SessionStore().exists("") and not SessionStore().exists(None)
    client.logout()
    assert not SessionStore().exists(key), "signing out ends it at once"


def test_an_account_is_read_by_id_active_or_not(alice, make_user, django_assert_num_queries):
    """What the live account checks read: a deactivated person is still found (the socket is told
    why it closes), and ids that cannot be anyone cost no query."""
    from accounts import services as accounts_services
    from accounts.models import Role
    from accounts.selectors import account_by_id

    with django_assert_num_queries(1):
        assert account_by_id(alice.pk) == alice
    accounts_services.user_deactivate(actor=make_user("root", role=Role.ADMIN), user=alice)
    found = account_by_id(str(alice.pk))
    assert found == alice and not found.is_active
    with django_assert_num_queries(0):
        for nonsense in (None, "", "abc", -1, 0, 2**63):
            assert account_by_id(nonsense) is None
    assert account_by_id(alice.pk + 10**6) is None
