import pytest
from django.core.management import call_command

from accounts.models import Role, User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_profile_of_another_user(api_as, alice, bob):
    body = api_as(alice).get("/api/v1/users/bob/").json()
    assert body["username"] == "bob" and body["team"]["name"] == "Service Desk"
    assert {"points", "level", "badges", "communities"} <= set(body)
    assert "email" not in body, "an end user does not see other people's e-mail"
    assert api_as(bob).get("/api/v1/users/alice/").json()["email"] == "alice@example.com"


def test_unknown_or_inactive_user_is_404(api_as, alice, make_user):
    ghost = make_user("ghost")
    ghost.is_active = False
    ghost.save(update_fields=["is_active"])
    client = api_as(alice)
    assert client.get("/api/v1/users/nobody/").status_code == 404
    assert client.get("/api/v1/users/ghost/").json() == {"message": "Not found."}


def test_profiles_need_authentication(api, alice):
    assert api.get("/api/v1/users/alice/").status_code == 401


def test_seed_demo_is_idempotent_and_sets_the_password(db):
    call_command("seed_demo", password="pw-one")
    call_command("seed_demo", password="pw-two")
    roles = dict(User.objects.values_list("username", "role"))
    assert roles == {
        "alice": Role.END_USER,
        "erin": Role.END_USER,
        "bob": Role.AGENT,
        "carol": Role.MANAGER,
        "dave": Role.ADMIN,
    }
    bob = User.objects.get(username="bob")
    assert bob.team.name == "Service Desk" and bob.check_password("pw-two")


def test_production_hashes_passwords_with_argon2():
    from servicedesk.settings import base

    assert base.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_create_user_rejects_unknown_role(db):
    from accounts import services
    from servicedesk.errors import ApplicationError

    with pytest.raises(ApplicationError):
        services.user_create(username="x", password=PASSWORD, role="wizard")
