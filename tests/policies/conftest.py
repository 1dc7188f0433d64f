import pytest

from policies import services
from tickets import services as ticket_services

OUTAGE_TERMS = ["outage", "down", "unavailable", "offline"]


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
        config = config if config is not None else ({"url": "http://127.0.0.1:9/hook"} if kind in ("webhook", "slack", "teams") else {})
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
