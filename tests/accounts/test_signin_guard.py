"""Password guessing is slowed by account, by address and per device, on the page and the API.

Each test below is a way around the lockout that worked before: rotating the User-Agent,
rotating X-Forwarded-For, spraying a few guesses at many accounts, or spreading the guesses
for one account over many addresses. The owner's usual device still gets in, and the owner hears
about it.
"""
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import LoginRecord
from feeds.models import Notification
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"


def page_attempt(client, username, password, *, agent="Browser/1", ip="127.0.0.1", **headers):
    return client.post(
        reverse("accounts:login"), {"username": username, "password": password},
        HTTP_USER_AGENT=agent, REMOTE_ADDR=ip, **headers,
    )


def token_attempt(client, username, password, *, agent="script/1", ip="127.0.0.1", **headers):
    return client.post(
        TOKEN_URL, {"username": username, "password": password}, format="json",
        HTTP_USER_AGENT=agent, REMOTE_ADDR=ip, **headers,
    )


def people(make_user, n):
    return [make_user(f"staff{i}") for i in range(n)]


def test_spraying_accounts_from_one_address_with_rotating_browsers_is_stopped(client, make_user):
    """Four guesses per account, a new User-Agent each time: the address itself runs out of tries."""
    targets = people(make_user, 6)
    statuses = []
    for n, person in enumerate(targets):
        for guess in range(settings.SIGNIN_FAILURE_LIMIT - 1):
            statuses.append(page_attempt(client, person.username, f"Summer202{guess}", agent=f"Spray/{n}.{guess}").status_code)
    limit = settings.SIGNIN_IP_FAILURE_LIMIT
    assert statuses[: limit - 1] == [400] * (limit - 1)
    assert statuses[limit - 1] == 429  # the guess that reached the limit is answered, then no more
    assert set(statuses[limit:]) == {429}
    evaluated = LoginRecord.objects.filter(ip="127.0.0.1", success=False).count()
    assert evaluated == limit
    # Not even the right password for an account nobody guessed at is checked from there now.
    fresh = make_user("fresh")
    held = page_attempt(client, fresh.username, PASSWORD, agent="Brand-new/1")
    assert held.status_code == 429 and int(held["Retry-After"]) > 0
    assert "Too many failed attempts" in held.content.decode()

    # Another address is not affected, and the address recovers after the window.
    assert page_attempt(Client(), fresh.username, PASSWORD, ip="10.1.2.3").status_code == 302
    with time_machine.travel(timezone.now() + settings.SIGNIN_IP_WINDOW + timedelta(seconds=5), tick=False):
        assert page_attempt(Client(), targets[-1].username, PASSWORD, agent="Later/1").status_code == 302


def test_rotating_x_forwarded_for_on_the_token_endpoint_gives_no_new_client(make_user):
    """The header is not trusted without proxies (PROXY_COUNT=0): the throttle and the guard see one client."""
    person = make_user("target")
    api = APIClient()
    statuses = [
        token_attempt(api, "target", PASSWORD, HTTP_X_FORWARDED_FOR=f"203.0.113.{i}").status_code for i in range(11)
    ]
    assert statuses == [200] * 10 + [429]

    # With the throttle out of the way (its counters live in the cache), the guard still holds.
    cache.clear()
    targets = people(make_user, 6)
    statuses, spray = [], APIClient()
    for n, victim in enumerate(targets):
        for guess in range(settings.SIGNIN_FAILURE_LIMIT - 1):
            cache.clear()
            statuses.append(token_attempt(
                spray, victim.username, f"Winter{guess}", agent=f"curl/{n}.{guess}", HTTP_X_FORWARDED_FOR=f"198.51.100.{n * 10 + guess}",
            ).status_code)
    limit = settings.SIGNIN_IP_FAILURE_LIMIT
    assert statuses[: limit - 1] == [400] * (limit - 1) and set(statuses[limit - 1:]) == {429}
    cache.clear()
    locked = token_attempt(APIClient(), person.username, PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.77")
    assert locked.status_code == 429
    assert set(locked.json()) == {"message"} and "Too many failed sign-in attempts" in locked.json()["message"]
    assert LoginRecord.objects.filter(ip__startswith="198.51.100.").count() == 0
    assert LoginRecord.objects.filter(ip__startswith="203.0.113.").count() == 0


@override_settings(PROXY_COUNT=1, REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": 1})
def test_behind_one_proxy_only_the_address_the_proxy_saw_counts(make_user):
    """A client may prepend anything to X-Forwarded-For; the proxy's own entry is what counts."""
    targets = people(make_user, 6)
    api = APIClient()
    statuses = []
    for n, victim in enumerate(targets):
        for guess in range(settings.SIGNIN_FAILURE_LIMIT - 1):
            cache.clear()
            spoofed = f"198.51.100.{n * 10 + guess}, 192.0.2.10"  # forged part, then what the proxy appended
            statuses.append(token_attempt(api, victim.username, f"x{guess}", ip="10.0.0.2", HTTP_X_FORWARDED_FOR=spoofed).status_code)
    limit = settings.SIGNIN_IP_FAILURE_LIMIT
    assert set(statuses[limit - 1:]) == {429}
    assert set(LoginRecord.objects.values_list("ip", flat=True)) == {"192.0.2.10"}
    # A different real client behind the same proxy is a different address.
    cache.clear()
    fine = token_attempt(api, targets[0].username, PASSWORD, ip="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.11")
    assert fine.status_code == 200


def test_guesses_for_one_account_spread_over_addresses_lock_it_with_growing_waits(client, alice):
    start = timezone.now()
    limit, cooloff = settings.SIGNIN_FAILURE_LIMIT, settings.SIGNIN_COOLOFF
    with time_machine.travel(start, tick=False):
        statuses = [
            page_attempt(Client(), "alice", "wrong", agent=f"Bot/{i}", ip=f"198.51.100.{i}").status_code
            for i in range(limit)
        ]
        assert statuses == [400] * (limit - 1) + [429]
        assert page_attempt(Client(), "alice", PASSWORD, ip="192.0.2.1").status_code == 429
        assert token_attempt(APIClient(), "alice", PASSWORD, ip="192.0.2.2").status_code == 429

    # After the cool-off one more guess is allowed; it fails and the next wait is twice as long.
    second = start + cooloff + timedelta(seconds=1)
    with time_machine.travel(second, tick=False):
        wrong_again = page_attempt(Client(), "alice", "wrong", ip="198.51.100.99")
        assert wrong_again.status_code == 429
        assert int(wrong_again["Retry-After"]) == int(2 * cooloff.total_seconds())
    with time_machine.travel(second + cooloff + timedelta(seconds=5), tick=False):
        assert page_attempt(Client(), "alice", PASSWORD, ip="192.0.2.3").status_code == 429
    with time_machine.travel(second + 2 * cooloff + timedelta(seconds=5), tick=False):
        assert page_attempt(Client(), "alice", PASSWORD, ip="192.0.2.3").status_code == 302


def test_spelling_variants_of_a_username_count_as_that_username(client, alice):
    variants = ["alice", " alice", "alice ", "ALICE", "\uff41lice"]  # the last is a full-width "a"
    statuses = [page_attempt(Client(), name, "wrong", ip=f"198.51.100.{i}").status_code for i, name in enumerate(variants)]
    assert statuses[-1] == 429
    assert token_attempt(APIClient(), "alice", PASSWORD, ip="192.0.2.5").status_code == 429


def test_the_owner_still_gets_in_from_their_usual_device_and_is_told_once(alice, django_capture_on_commit_callbacks):
    laptop = Client()
    assert page_attempt(laptop, "alice", PASSWORD, agent="AliceLaptop/1").status_code == 302
    laptop.post(reverse("accounts:logout"))
    assert settings.SIGNIN_DEVICE_COOKIE in laptop.cookies

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(settings.SIGNIN_FAILURE_LIMIT * 3):
            page_attempt(Client(), "alice", f"guess{i}", agent=f"Bot/{i}", ip=f"198.51.100.{i}")
    # Everyone else is held back, the right password notwithstanding.
    assert page_attempt(Client(), "alice", PASSWORD, agent="AliceLaptop/1").status_code == 429
    # The laptop, from the same address and browser as any other, gets in.
    assert page_attempt(laptop, "alice", PASSWORD, agent="AliceLaptop/1").status_code == 302

    alerts = Notification.objects.filter(recipient=alice, kind="security.failed_sign_ins")
    assert alerts.count() == 1
    assert "Repeated failed sign-ins on your account" in alerts.get().text
    assert [m.to for m in mail.outbox if "failed sign-ins" in (m.subject + m.body).lower()] == [[alice.email]]

    # A day later the next wave is news again.
    with time_machine.travel(timezone.now() + settings.SIGNIN_FAILURE_WINDOW + timedelta(minutes=1), tick=False):
        for i in range(settings.SIGNIN_FAILURE_LIMIT):
            page_attempt(Client(), "alice", f"again{i}", ip=f"203.0.113.{i}")
        assert alerts.count() == 2


def test_the_usual_device_gets_in_through_the_token_endpoint_too(alice):
    laptop = APIClient()
    assert token_attempt(laptop, "alice", PASSWORD).status_code == 200
    for i in range(settings.SIGNIN_FAILURE_LIMIT):
        token_attempt(APIClient(), "alice", "wrong", ip=f"198.51.100.{i}")
    assert token_attempt(APIClient(), "alice", PASSWORD).status_code == 429
    assert token_attempt(laptop, "alice", PASSWORD).status_code == 200


def test_the_usual_device_is_not_held_back_by_its_address_being_sprayed(alice, make_user):
    laptop = Client()
    assert page_attempt(laptop, "alice", PASSWORD).status_code == 302
    laptop.post(reverse("accounts:logout"))
    for n, victim in enumerate(people(make_user, 5)):
        for guess in range(4):
            page_attempt(Client(), victim.username, "nope", agent=f"Spray/{n}{guess}")
    assert page_attempt(Client(), "alice", PASSWORD).status_code == 429
    assert page_attempt(laptop, "alice", PASSWORD).status_code == 302


def test_the_usual_device_has_its_own_limit_and_is_only_usual_for_its_account(alice, erin):
    laptop = Client()
    assert page_attempt(laptop, "alice", PASSWORD).status_code == 302
    laptop.post(reverse("accounts:logout"))
    # Its cookie does not exempt guesses at someone else's account.
    for _ in range(settings.SIGNIN_FAILURE_LIMIT):
        page_attempt(laptop, "erin", "wrong", ip="198.51.100.1")
    assert page_attempt(Client(), "erin", PASSWORD, ip="198.51.100.2").status_code == 429
    # Nor does it give unlimited guesses at its own account: its own failures lock it too.
    statuses = [page_attempt(laptop, "alice", "wrong").status_code for _ in range(settings.SIGNIN_FAILURE_LIMIT)]
    assert statuses[-1] == 429
    assert page_attempt(laptop, "alice", PASSWORD).status_code == 429
    # Those failures were the owner's device's: they do not lock anyone else out or alert the owner.
    assert page_attempt(Client(), "alice", PASSWORD, ip="192.0.2.9").status_code == 302
    assert not Notification.objects.filter(recipient=alice, kind="security.failed_sign_ins").exists()


def test_a_forged_device_cookie_is_ignored(alice):
    for i in range(settings.SIGNIN_FAILURE_LIMIT):
        page_attempt(Client(), "alice", "wrong", ip=f"198.51.100.{i}")
    forger = Client()
    forger.cookies[settings.SIGNIN_DEVICE_COOKIE] = '{"d":"stolen","u":[%d]}' % alice.pk
    assert page_attempt(forger, "alice", PASSWORD).status_code == 429
    forger.cookies[settings.SIGNIN_DEVICE_COOKIE] = '{"d":"stolen","u":[%d]}:forged-signature' % alice.pk
    assert page_attempt(forger, "alice", PASSWORD).status_code == 429
