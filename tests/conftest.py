import itertools
import os
from importlib import import_module

import pytest
import redis
from django.conf import settings
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.models import Role

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


def require_service(name: str, check) -> None:
    """A service the suite needs is down: a failure in CI, a skip on a developer's machine."""
    try:
        check()
    except Exception as exc:  # noqa: BLE001
        message = f"{name} is not reachable: {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


# Data the migrations create (SLA targets, business calendar, point rules and badges): tests count
# on it, and a transactional test's flush removes it.
MIGRATION_DATA = [
    ("tickets.migrations.0002_defaults_and_search_index", "create_defaults"),
    ("gamification.migrations.0002_seed_rules_and_badges", "seed"),
]


def restore_migration_data() -> None:
    from django.apps import apps

    for module, function in MIGRATION_DATA:
        getattr(import_module(module), function)(apps, None)


def _flushes_the_database(item) -> bool:
    marker = item.get_closest_marker("django_db")
    transaction = marker is not None and (marker.kwargs.get("transaction") or (marker.args and marker.args[0]))
    return bool(transaction) or "transactional_db" in item.fixturenames or "live_server" in item.fixturenames


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """Put the migrations' data back after a transactional test: in parallel runs (pytest-xdist)
    a worker may run other tests of the same database after one, not only before."""
    result = yield
    # After the last test the test database is gone already (session fixtures end with it).
    if nextitem is not None and _flushes_the_database(item):
        from pytest_django.plugin import blocking_manager_key

        with item.config.stash[blocking_manager_key].unblock():
            restore_migration_data()
    return result


@pytest.fixture(scope="session", autouse=True)
def _clean_redis():
    """The test Redis database starts empty, so no earlier run's events or tasks leak in."""
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2)
    require_service("Redis", client.ping)
    client.flushdb()
    yield
    client.close()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters live in the cache; each test starts with none."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """Each test gets its own channel layer object. channels_redis keeps its receive lock and the
    event loop it belongs to on the layer; a socket test whose loop ended while a receive was
    still pending would otherwise leave the next test's sockets a lock bound to a dead loop."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture
def make_user(db):
    def make(username: str | None = None, role: str = Role.END_USER, **extra):
        username = username or f"user{next(_counter)}"
        extra.setdefault("email", f"{username}@example.com")
        return account_services.user_create(username=username, password=PASSWORD, role=role, **extra)

    return make


@pytest.fixture
def alice(make_user):
    return make_user("alice", display_name="Alice Martin")


@pytest.fixture
def erin(make_user):
    return make_user("erin", display_name="Erin Walsh")


@pytest.fixture
def bob(make_user):
    team = account_services.team_get_or_create(name="Service Desk")
    return make_user("bob", role=Role.AGENT, team=team, display_name="Bob Okafor")


@pytest.fixture
def dave(make_user):
    return make_user("dave", role=Role.ADMIN, display_name="Dave Schmidt")


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def api_as():
    def client_for(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return client_for
