import pytest

from accounts import services as account_services
from accounts.models import Role
from communities import services as communities
from feeds import services as feeds
from tickets import services as tickets


@pytest.fixture
def carol(make_user):
    team = account_services.team_get_or_create(name="Service Desk")
    return make_user("carol", role=Role.MANAGER, team=team, display_name="Carol Nguyen")


@pytest.fixture
def agent(make_user):
    def make(username):
        team = account_services.team_get_or_create(name="Service Desk")
        return make_user(username, role=Role.AGENT, team=team)

    return make


@pytest.fixture
def resolved_by():
    """`requester` logs an incident, `agent` takes it and resolves it."""

    def make(agent, requester, title="Printer on floor 3 jams paper", **kwargs):
        ticket = tickets.ticket_create(actor=requester, kind="incident", title=title, impact=2, urgency=2, **kwargs)
        tickets.ticket_update(actor=agent, ticket=ticket, assignee=agent)
        return tickets.ticket_update(actor=agent, ticket=ticket, status="resolved")

    return make


@pytest.fixture
def post_by():
    def make(author, body="Tip: restart the VPN client first"):
        return feeds.post_create(actor=author, wall_type="user", wall_key=author.username, body=body)

    return make


@pytest.fixture
def community(bob):
    return communities.community_create(actor=bob, name="Windows help", slug="windows")


@pytest.fixture(autouse=True)
def _empty_leaderboards():
    """Leaderboard sets are written on commit and outlive a test's rollback: start each test clean."""
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter(match=f"{settings.CHANNEL_PREFIX}:lb*"):
        client.delete(key)
    yield client
    client.close()
