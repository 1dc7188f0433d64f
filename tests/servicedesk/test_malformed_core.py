"""Every write route of accounts, tickets and feeds, fed malformed JSON (and broken uploads) by someone
allowed to use it: the answer is never a 500, and a 4xx has the error body of API.md."""
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver

from feeds import services as feeds
from tickets import services as tickets
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

APPS = ("accounts.api", "tickets.api", "feeds.api")
HUGE = "x" * 200_000
WHOLE_BODIES = [[], "x", 5, None, {}]
# Each field of a valid body is replaced, one at a time, by each of these.
BAD_VALUES = [None, [], {"a": 1}, True, HUGE, "a\u0000b", 10 ** 30, -(10 ** 30), 1.5, "2024-13-01T25:61", "nonsense", "²"]


def api_write_routes(apps, methods=("post", "patch", "put", "delete")):
    found = []

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                view = getattr(p.callback, "view_class", None)
                if view is not None and view.__module__ in apps:
                    for method in methods:
                        if hasattr(view, method):
                            found.append((prefix + str(p.pattern), method, view.__name__))

    walk(get_resolver().url_patterns)
    return sorted(set(found))


ROUTES = api_write_routes(APPS)


def assert_error_shape(response, context):
    assert response.status_code < 500, (context, response.status_code, response.content[:300])
    if response.status_code >= 400:
        payload = response.json()
        assert isinstance(payload.get("message"), str) and payload["message"], (context, payload)
        errors = payload.get("errors", {})
        assert isinstance(errors, dict) and all(isinstance(v, list) for v in errors.values()), (context, payload)


def test_the_sweep_covers_the_write_routes():
    names = {name for _, _, name in ROUTES}
    assert {"TokenObtainApi", "TicketListApi", "TicketDetailApi", "AttachmentUploadApi", "RatingApi",
            "NotificationPreferencesApi", "PostDetailApi", "MuteApi", "FeedTokenRevokeApi"} <= names
    assert len(ROUTES) >= 30


@pytest.fixture
def world(dave, alice, bob):
    return build_world(dave, alice, bob)


def build_world(dave, alice, bob):
    """A ticket of each state the routes need, and one of each feed object, most of them dave's."""
    service = tickets.service_create(name="Probe service", owner_team=bob.team)
    ticket = tickets.ticket_create(actor=dave, kind="incident", title="Probe", impact=2, urgency=2, service=service)
    resolved = tickets.ticket_create(actor=dave, kind="incident", title="Resolved probe", impact=2, urgency=2)
    tickets.ticket_update(actor=bob, ticket=resolved, status="resolved")
    problem = tickets.ticket_create(actor=dave, kind="problem", title="Probe problem", impact=2, urgency=2)
    incident = tickets.ticket_create(actor=alice, kind="incident", title="Probe incident", impact=2, urgency=2)
    follow, _ = feeds.follow_create(actor=dave, target_type="user", key="alice")
    token, feed_key = feeds.feed_token_create(actor=dave, label="Probe")
    saved = feeds.saved_feed_filter_save(actor=dave, name="Probe")
    post = feeds.post_create(actor=dave, wall_type="user", wall_key="dave", body="Probe post")
    ids = {"ticket_id": ticket.pk, "follow_id": follow.pk, "token_id": token.pk, "filter_id": saved.pk,
           "post_id": post.pk, "username": "alice"}
    by_view = {"RatingApi": {"ticket_id": resolved.pk}, "ReopenApi": {"ticket_id": resolved.pk},
               "ProblemIncidentsApi": {"ticket_id": problem.pk}, "ProblemResolveApi": {"ticket_id": problem.pk},
               "MeTooApi": {"ticket_id": incident.pk},
               "ProblemUnlinkApi": {"ticket_id": problem.pk, "incident_id": incident.pk}}
    valid = {
        "TokenObtainApi": {"username": "dave", "password": PASSWORD},
        "NotificationsReadApi": {"ids": [1], "all": False},
        "FeedFiltersApi": {"name": "Mine", "context": "all", "about": ""},
        "FollowListApi": {"type": "ticket", "key": str(ticket.pk)},
        "MuteApi": {"type": "ticket", "key": str(ticket.pk)},
        "FeedTokenApi": {"label": "Reader"},
        "PostCreateApi": {"body": "Hello", "wall": {"type": "user", "key": "dave"}},
        "PostDetailApi": {"body": "Edited"},
        "PostCommentsApi": {"body": "A comment"},
        "NotificationPreferencesApi": {
            "kinds": {"ticket.assigned": {"in_app": True, "email": False}}, "email_digest": True,
            "quiet_hours_start": "22:00", "quiet_hours_end": "07:00", "time_zone": "Europe/Paris",
            "external_channel": None,
        },
        "TicketListApi": {"kind": "incident", "title": "New", "description": "Text", "service": service.pk,
                          "impact": 2, "urgency": 2, "visibility": "private"},
        "TicketDetailApi": {"status": "in_progress", "assignee": "bob", "priority": 3, "team": bob.team_id,
                            "visibility": "public"},
        "CommentsApi": {"body": "Comment", "internal": False, "attachments": []},
        "RatingApi": {"score": 5, "comment": "Fine"},
        "ReopenApi": {"reason": "Again"},
        "ProblemIncidentsApi": {"incident": incident.pk},
        "MergeApi": {"into": resolved.pk},
        "ProblemResolveApi": {"note": "Fixed", "resolve_incidents": True},
    }
    return {"ids": ids, "by_view": by_view, "valid": valid, "ticket": ticket, "service": service, "post": post,
            "problem": problem, "feed_key": feed_key}


def fill(route: str, ids: dict) -> str:
    return "/" + re.sub(r"<(\w+:)?(\w+)>", lambda m: str(ids[m.group(2)]), route)


def mutations(body: dict):
    """The valid body with each field (and each field of a nested object) replaced by each bad value."""
    for field, value in body.items():
        for bad in BAD_VALUES:
            yield {**body, field: bad}
        if isinstance(value, dict):
            for inner, inner_value in value.items():
                for bad in BAD_VALUES:
                    yield {**body, field: {**value, inner: bad}}
                if isinstance(inner_value, dict):
                    for leaf in inner_value:
                        for bad in BAD_VALUES:
                            yield {**body, field: {**value, inner: {**inner_value, leaf: bad}}}


@pytest.mark.parametrize("route,method,view", ROUTES, ids=[f"{m.upper()} {r}" for r, m, _ in ROUTES])
def test_malformed_bodies_never_answer_500(api_as, dave, world, route, method, view):
    client = api_as(dave)
    url = fill(route, {**world["ids"], **world["by_view"].get(view, {})})
    bodies = [*WHOLE_BODIES, *mutations(world["valid"].get(view, {}))]
    for body in bodies:
        response = getattr(client, method)(url, body, format="json")
        shown = "huge" if HUGE in str(body)[:200_100] and len(str(body)) > 1000 else body
        assert_error_shape(response, (method, url, shown))


def _upload(name, content, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.mark.parametrize("files", [
    {"file": _upload("empty.txt", b"")},
    {"file": _upload("report.pdf", b"MZ\x90\x00 this is really an executable")},
    {"file": _upload("photo.png", b"GIF89a not a png")},
    {"file": _upload("\u0000.txt", b"hello")},
    {"file": _upload("x" * 1000 + ".txt", b"hello")},
    {"file": _upload("notes.txt", b"\x00\x00\x00binary")},
    {"other": _upload("notes.txt", b"hello")},
    {"file": "not a file"},
], ids=["empty", "lying-extension", "wrong-magic", "nul-name", "long-name", "binary-txt", "wrong-field", "no-file"])
def test_broken_uploads_never_answer_500(api_as, dave, world, files):
    response = api_as(dave).post(f"/api/v1/tickets/{world['ticket'].pk}/attachments/", files, format="multipart")
    assert_error_shape(response, files)


def test_an_oversized_upload_is_refused_with_the_error_body(api_as, dave, world, settings):
    settings.ATTACHMENT_MAX_BYTES = 10
    response = api_as(dave).post(f"/api/v1/tickets/{world['ticket'].pk}/attachments/",
                                 {"file": _upload("big.txt", b"hello world, too long")}, format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"]["file"]


def test_json_sent_to_the_upload_route_is_refused_with_the_error_body(api_as, dave, world):
    response = api_as(dave).post(f"/api/v1/tickets/{world['ticket'].pk}/attachments/", {"file": "x"}, format="json")
    assert response.status_code == 415
    assert_error_shape(response, "json upload")
