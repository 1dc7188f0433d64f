"""Every GET route, API and page, with real ids in the path and junk in the query string, as each role:
the answer is never a 500, and an API 4xx has the error body of API.md."""
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import Role
from tests.servicedesk import test_malformed_bodies, test_malformed_core

pytestmark = pytest.mark.django_db

# Django's own admin is not the product's code; signing out would end the sweep's session.
SKIPPED = ("admin/", "accounts/logout/", "api/schema/", "api/docs/")
LONG = "q" * 5000
JUNK = [
    "page=-1", "page=abc", f"page={10 ** 30}", "page_size=-5", "page_size=%C2%B2", "cursor=%%%", "cursor=abc",
    "before=abc", "before=%C2%B2", f"before={10 ** 30}", "since=%C2%B2", "since=2024-13-45", f"q={LONG}", "q=%00",
    "sort=drop", "sort=-", "status=nonsense", "priority=%C2%B2", "assignee=%00", "team=abc", "service=%C2%B2",
    "context=nonsense", "about=%00", "type=nonsense", "kind=nonsense", "period=nonsense", "days=-1", "range=%00",
    "status=new&status=nonsense&page=1&page=2&sort=id&sort=drop", "q=probe", "sort=priority",
    "format=xml", "format=csv",
]


def _layers(junk):
    """The single-parameter junk stacked into as few query strings as keep one value per name, so no
    value is shadowed by a later one of the same name."""
    layers: list[dict] = []
    for item in junk:
        if "&" in item or item.startswith("format=") or "%00" in item:
            continue
        name, value = item.split("=", 1)
        layer = next((layer for layer in layers if name not in layer), None)
        if layer is None:
            layer = {}
            layers.append(layer)
        layer[name] = value
    return ["&".join(f"{k}={v}" for k, v in layer.items()) for layer in layers]


# An unknown format answers 404, and a NUL anywhere in the query 400, before anything else is read: they
# are sent apart.
STACKED = [*_layers(JUNK), *(j for j in JUNK if "&" in j), "&".join(j for j in JUNK if "%00" in j)]


def get_routes():
    found = []

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                route = prefix + str(p.pattern)
                if not route.startswith(SKIPPED):
                    found.append(route)

    walk(get_resolver().url_patterns)
    return sorted(set(found))


ROUTES = get_routes()


def test_the_sweep_covers_api_and_pages():
    assert {"api/v1/tickets/", "api/v1/feed/", "queue/", "portal/", "feed/", "communities/<slug:slug>/",
            "communications/audit/", "manage/", "leaderboard/"} <= set(ROUTES)
    assert len(ROUTES) >= 180


def _ids(dave, alice, bob, erin):
    from tickets import services as tickets

    world = test_malformed_bodies.build_world(dave, alice, bob, erin)
    core = test_malformed_core.build_world(dave, alice, bob)
    view = tickets.saved_view_save(actor=dave, name="Probe view", query={"status": "new"})
    attachment = tickets.attachment_add(actor=dave, ticket=core["ticket"],
                                        upload=SimpleUploadedFile("notes.txt", b"probe", content_type="text/plain"))
    canned = tickets.canned_response_create(actor=dave, title="Probe", body="Hello {requester.first_name}")
    from intake import services as intake

    mailbox = intake.mailbox_save(actor=dave, name="Probe", kind="receiver", address="probe@example.com")
    return {"inbound_id": mailbox.pk, **world, **core["ids"], "view_id": view.pk, "token": attachment.token, "wall_type": "user",
            "response_id": canned.pk, "incident_id": core["ticket"].pk,
            "key": "dave", "tag": "probe", "login_id": 1, "decision": "accept", "action": "approve",
            "service": core["service"].pk, "ticket": core["ticket"].pk, "feed_post": core["post"].pk,
            "feed_key": core["feed_key"]}


# Routes whose parameter is called pk (or is otherwise ambiguous) name the object by their prefix.
PK_BY_PREFIX = [
    ("tickets/", "ticket"), ("services/", "service"), ("posts/", "feed_post"), ("campaigns/", "campaign_id"),
    ("communications/channels/", "channel_id"), ("communications/policies/", "policy_id"),
    ("communications/outbound/", "post_id"), ("communications/listening/", "source_id"),
    ("communications/flags/", "post_id"), ("questions/", "question_id"), ("answers/", "answer_id"),
    ("articles/", "article_id"), ("inbound/", "inbound_id"),
]


def fill(route: str, ids: dict) -> str:
    def value(match):
        name = match.group(2)
        if name == "pk":
            if "/ideas/" in route:
                return str(ids["idea_id"])
            if "/polls/" in route:
                return str(ids["poll_id"])
            return str(next(ids[key] for prefix, key in PK_BY_PREFIX if route.startswith(prefix)))
        if name == "slug" and route.startswith("status/"):
            return "probe-feed"
        if name == "slug" and route.startswith("api/v1/rules/"):
            return "answer_accepted"
        if name == "token" and route.startswith(("rss/", "atom/")):
            return ids["feed_key"]
        if name == "decision" and "/requests/" in route:
            return "approve"
        if name == "name" and route.startswith("media/avatars/"):
            return "nobody.png"
        return str(ids[name])

    return "/" + re.sub(r"<(\w+:)?(\w+)>", value, route)


@pytest.mark.parametrize("role", [Role.END_USER, Role.AGENT, Role.MANAGER, Role.ADMIN])
def test_junk_query_parameters_never_answer_500(make_user, dave, alice, bob, erin, role):
    ids = _ids(dave, alice, bob, erin)
    viewer = {Role.END_USER: alice, Role.AGENT: bob, Role.ADMIN: dave}.get(role) or make_user(
        "mona", role=Role.MANAGER, team=bob.team)
    client = Client(raise_request_exception=False)
    client.force_login(viewer)
    failures = []
    for route in ROUTES:
        url = fill(route, ids)
        # A route that does not answer GET at all reads no query string.
        plain = client.get(url)
        if plain.status_code >= 500:
            failures.append((url, plain.status_code))
        if plain.status_code == 405:
            continue
        answers = [_probe(client, url, query, failures) for query in STACKED]
        # One parameter at a time where the stacked junk was refused as invalid (so that early 400 cannot
        # hide a later parameter), as the admin, who reaches every route.
        if role == Role.ADMIN and 400 in answers[:-1]:
            for query in JUNK:
                _probe(client, url, query, failures)
    assert not failures, failures



def _probe(client, url, query, failures) -> int:
    # A failed query aborts the test's transaction; a savepoint keeps one 500 from hiding the rest.
    savepoint = transaction.savepoint()
    response = client.get(f"{url}?{query}")
    if response.status_code >= 500:
        transaction.savepoint_rollback(savepoint)
        connection.needs_rollback = False
    else:
        transaction.savepoint_commit(savepoint)
    shown = f"{url}?{query[:120]}"
    if response.status_code >= 500:
        failures.append((shown, response.status_code))
    elif url.startswith("/api/") and response.status_code >= 400:
        payload = response.json() if "json" in response.get("Content-Type", "") else None
        if not (isinstance(payload, dict) and isinstance(payload.get("message"), str)
                and isinstance(payload.get("errors", {}), dict)):
            failures.append((shown, response.status_code, payload or response.get("Content-Type")))
    return response.status_code
