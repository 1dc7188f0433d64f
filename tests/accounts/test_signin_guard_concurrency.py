"""Guesses sent in parallel are counted one by one: the limit holds at any speed."""
import threading

import pytest
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import LoginRecord, User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

# A slow hash makes the gap between "may this request guess?" and "its failure is recorded" wide,
# as Argon2 does in production; without serialising attempts every parallel guess gets through.
SLOW = {"PASSWORD_HASHERS": ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]}


def in_parallel(n, attempt):
    barrier = threading.Barrier(n)
    statuses = [None] * n

    def run(i):
        try:
            barrier.wait(timeout=60)
            statuses[i] = attempt(i)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return statuses


@override_settings(**SLOW)
@pytest.mark.parametrize("endpoint", ["page", "token"])
def test_parallel_guesses_at_one_account_get_no_more_than_the_limit(make_user, endpoint):
    person = make_user("target")
    User.objects.filter(pk=person.pk).update(password=make_password(PASSWORD))
    n = settings.SIGNIN_FAILURE_LIMIT + 5

    def attempt(i):
        if endpoint == "page":
            client = Client()
            return client.post(reverse("accounts:login"), {"username": "target", "password": f"guess{i}"},
                               REMOTE_ADDR=f"198.51.100.{i}", HTTP_USER_AGENT=f"Bot/{i}").status_code
        return APIClient().post("/api/v1/auth/token/", {"username": "target", "password": f"guess{i}"}, format="json",
                                REMOTE_ADDR=f"198.51.100.{i}", HTTP_USER_AGENT=f"Bot/{i}").status_code

    statuses = in_parallel(n, attempt)
    assert LoginRecord.objects.filter(username="target", success=False).count() == settings.SIGNIN_FAILURE_LIMIT
    assert sorted(statuses) == [400] * (settings.SIGNIN_FAILURE_LIMIT - 1) + [429] * (n - settings.SIGNIN_FAILURE_LIMIT + 1)
