import pytest

from policies import services
from tickets import services as ticket_services

OUTAGE_TERMS = ["outage", "down", "unavailable", "offline"]
# A public-looking address that never resolves (.invalid, RFC 6761): saved, never reached.
DEFAULT_HOOK = "https://hooks.example.invalid/hook"


@pytest.fixture
def allow_loopback(settings):
    """Local test targets run on 127.0.0.1, which the address guard refuses unless an admin lists
    it: only the tests that need a local target list it, so every other test runs with the guard."""
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]


@pytest.fixture
def finance(db):
    return ticket_services.service_create(name="Finance application", confidential=True)


@pytest.fixture
def carol(make_user):
    from accounts.models import Role

    return make_user("carol", role=Role.MANAGER, display_name="Carol Jones")


@pytest.fixture
def make_channel(dave):
    def make(name="Status on X", kind="webhook", audience="public", config=None, **extra):
        config = config if config is not None else ({"url": DEFAULT_HOOK} if kind in ("webhook", "slack", "teams") else {})
        return services.channel_create(actor=dave, name=name, kind=kind, audience=audience, config=config, **extra)

    return make


@pytest.fixture
def make_policy(dave):
    def make(channel, **fields):
        fields.setdefault("name", f"Policy for {channel.name}")
        fields.setdefault("blocked_terms", OUTAGE_TERMS)
        return services.policy_create(actor=dave, channel=channel, **fields)

    return make


@pytest.fixture
def public_channel(make_channel, make_policy, finance):
    channel = make_channel()
    make_policy(channel, allowed_events=["manual_post", "maintenance_notice"])
    return channel
