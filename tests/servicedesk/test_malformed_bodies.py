"""Every write route of communities, gamification and policies, fed malformed JSON by someone
allowed to use it: the answer is never a 500, and a 4xx has the error body of API.md."""
from datetime import timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from communities import services as communities
from gamification import services as gamification
from gamification.models import Rule
from policies import services as policies
from tickets import services as tickets

pytestmark = pytest.mark.django_db

APPS = ("communities.api", "gamification.api", "policies.api")
HUGE = "x" * 200_000
BODIES = [
    [], "x", 5, None, {"title": None}, {"title": 5}, {"title": HUGE, "body": HUGE, "name": HUGE},
    {"title": "\u0000", "body": "\u0000", "name": "\u0000", "note": "\u0000", "reason": "\u0000"},
    {"name": [], "body": {}, "title": [], "config": [], "channel": {}, "value": "x", "option": [], "services": "x",
     "points": "x", "username": [], "reason": [], "target": [], "status": [], "options": "x", "closes_at": "x",
     "starts_at": "2024-13-01", "ends_at": 5, "rule": [], "multiplier": "x", "kind": [], "audience": [], "restore": "x",
     "note": [], "outcome": [], "ticket": "x", "community": [], "service": "x", "active": "maybe"},
    {"points": 10 ** 30, "option": 10 ** 30, "ticket": 10 ** 30, "services": [10 ** 30], "restore": 10 ** 30,
     "channel": 10 ** 30, "service": 10 ** 30, "goal": 10 ** 30, "rate_limit_per_hour": 10 ** 30},
    {"name": "Probe", "kind": "rss", "audience": "public", "config": {"title": "\u0000", "description": ["x"]}},
    {"name": "Nul feed", "kind": "rss", "audience": "public", "config": {"title": "Status\u0000"}},
    {"name": "Nul hook", "kind": "webhook", "audience": "internal", "config": {"url": "https://example.com/\u0000"}},
    {"config": {"title": "\u0000", "url": {"a": 1}}, "quiet_hours_start": "25:61", "time_zone": "Mars/Olympus"},
    {"starts_at": "2030-01-02T00:00:00Z", "ends_at": "2030-01-01T00:00:00Z", "name": "Backwards", "rule": "answer_accepted"},
]


def _routes():
    found = []

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                view = getattr(p.callback, "view_class", None)
                if view is not None and view.__module__ in APPS:
                    for method in ("post", "patch", "put"):
                        if hasattr(view, method):
                            found.append((prefix + str(p.pattern), method, view.__name__))

    walk(get_resolver().url_patterns)
    return sorted(set(found))


ROUTES = _routes()


def test_the_sweep_covers_the_write_routes():
    names = {name for _, _, name in ROUTES}
    assert {"CommunityListApi", "PollListApi", "CampaignListApi", "BountyApi", "ChannelDetailApi", "PolicyListApi",
            "OutboundListApi", "RuleDetailApi"} <= names
    assert len(ROUTES) >= 40


@pytest.fixture
def world(dave, alice, bob, erin):
    return build_world(dave, alice, bob, erin)


def build_world(dave, alice, bob, erin):
    """One of everything the routes name, owned or administered by dave, so he may write to each."""
    from communities.models import JoinRequest

    community = communities.community_create(actor=dave, name="Probe", slug="probe", visibility="private")
    communities.invitation_decide(actor=bob, invitation_id=communities.invitation_create(
        actor=dave, community=community, user=bob).pk, accept=True)
    communities.community_join(actor=erin, community=community)  # a pending request
    communities.invitation_decide(actor=alice, invitation_id=communities.invitation_create(
        actor=dave, community=community, user=alice).pk, accept=True)
    other = communities.community_create(actor=alice, name="Other", slug="other")
    invitation = communities.invitation_create(actor=alice, community=other, user=dave)
    bridge = communities.bridge_propose(actor=alice, source=other, target=community)
    question = communities.question_ask(actor=bob, community=community, title="How to probe")
    answer = communities.answer_post(actor=bob, question=question, body="Like this")
    article = communities.article_create(actor=bob, title="Probing", body="Text", community=community)
    idea = communities.idea_create(actor=bob, community=community, title="More probes")
    poll = communities.poll_create(actor=bob, community=community, question="Probe?", options=["yes", "no"],
                                   closes_at=timezone.now() + timedelta(days=1))
    problem = tickets.ticket_create(actor=dave, kind="problem", title="Probe problem", impact=2, urgency=2)
    campaign = gamification.campaign_create(actor=dave, name="Probe week", starts_at=timezone.now(),
                                            ends_at=timezone.now() + timedelta(days=7), rule=Rule.objects.get(slug="answer_accepted"))
    channel = policies.channel_create(actor=dave, name="Probe feed", kind="rss", audience="public", config={})
    policy = policies.policy_create(actor=dave, channel=channel, name="Probe policy")
    post = policies.outbound_create(actor=dave, channel=channel, body="Hello")
    source = policies.listening_source_create(actor=dave, name="Probe hook", kind="webhook", secret="a-shared-secret-for-probes")
    return {
        "slug": community.slug, "question_id": question.pk, "answer_id": answer.pk, "article_id": article.pk,
        "idea_id": idea.pk, "poll_id": poll.pk, "request_id": JoinRequest.objects.get(community=community).pk,
        "invitation_id": invitation.pk, "bridge_id": bridge.pk, "ticket_id": problem.pk,
        "campaign_id": campaign.pk, "channel_id": channel.pk, "policy_id": policy.pk, "post_id": post.pk,
        "source_id": source.pk, "username": "bob",
    }


def _fill(route: str, view: str, ids: dict) -> str:
    import re

    def value(match):
        name = match.group(2)
        if view == "RuleDetailApi" and name == "slug":
            return "answer_accepted"
        return str(ids[name])

    return "/" + re.sub(r"<(\w+:)?(\w+)>", value, route)


@pytest.mark.parametrize("route,method,view", ROUTES, ids=[f"{m.upper()} {r}" for r, m, _ in ROUTES])
def test_malformed_bodies_never_answer_500(api_as, dave, world, route, method, view):
    client = api_as(dave)
    url = _fill(route, view, world)
    for body in BODIES:
        response = getattr(client, method)(url, body, format="json")
        assert response.status_code < 500, (url, body if body is not BODIES[6] else "huge", response.content[:300])
        if response.status_code >= 400:
            payload = response.json()
            assert isinstance(payload.get("message"), str) and payload["message"], (url, payload)
            errors = payload.get("errors", {})
            assert isinstance(errors, dict) and all(isinstance(v, list) for v in errors.values()), (url, payload)
