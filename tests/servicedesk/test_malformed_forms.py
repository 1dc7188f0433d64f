"""Form posts to every page, CSRF-valid but malformed: never a 500; the main forms answer 400 and keep
what the person typed."""
import pytest
from django.db import connection, transaction
from django.test import Client

from tests.servicedesk import test_junk_queries, test_malformed_bodies, test_malformed_core

pytestmark = pytest.mark.django_db

FIELDS = (
    "kind title description service impact urgency visibility suggestions_shown suggestions_query body reply_as "
    "internal score comment reason note resolve_incidents status assignee priority team action name slug label "
    "context about type key quiet_hours_start quiet_hours_end time_zone email_digest question options closes_at "
    "username target services channel allowed_events blocked_terms blocked_patterns block_personal_data "
    "confidential_services template requires_approval rate_limit_per_hour event url secret recipients keywords "
    "active ids query next option value points restore revision outcome tickets q"
).split()
TEXT = ("title", "body", "description", "name", "label", "reason", "note", "comment", "question", "keywords")
HUGE = "x" * 200_000
FORM_BODIES = [
    {field: "probe\u0000" for field in FIELDS},
    {field: HUGE for field in TEXT},
    {field: "\u00b2" for field in FIELDS},
    {field: str(10 ** 30) for field in FIELDS},
    {field: "2024-13-45T25:61" for field in FIELDS},
    {field: ["nonsense", "1", ""] for field in FIELDS},
    {field: "" for field in FIELDS},
]
PAGE_ROUTES = [r for r in test_junk_queries.ROUTES if not r.startswith(("api/", "rss/", "atom/", "status/"))]


def test_every_page_route_takes_malformed_form_posts_without_a_500(dave, alice, bob, erin):
    ids = test_junk_queries._ids(dave, alice, bob, erin)
    client = Client(raise_request_exception=False)
    client.force_login(dave)
    failures = []
    for route in PAGE_ROUTES:
        url = test_junk_queries.fill(route, ids)
        for body in FORM_BODIES:
            response = _post(client, url, body)
            if response.status_code >= 500:
                failures.append((url, str(next(iter(body.values())))[:20], response.status_code))
    assert not failures, failures


def _post(client, url, data):
    # A failed query aborts the test's transaction; a savepoint keeps one 500 from hiding the rest.
    savepoint = transaction.savepoint()
    response = client.post(url, data)
    if response.status_code >= 500:
        transaction.savepoint_rollback(savepoint)
        connection.needs_rollback = False
    else:
        transaction.savepoint_commit(savepoint)
    return response


def _signed_in(user):
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


@pytest.fixture
def worlds(dave, alice, bob, erin):
    return {**test_malformed_bodies.build_world(dave, alice, bob, erin), **test_malformed_core.build_world(dave, alice, bob)}


KEPT = "Kept words 7731"


def _main_forms(w):
    """(url, a valid form, the field that carries the typed words to keep) for each main form."""
    return [
        ("/portal/", {"kind": "incident", "title": KEPT, "description": "d", "impact": "2", "urgency": "2",
                      "visibility": "private"}, "title"),
        (f"/tickets/{w['ticket'].pk}/comment/", {"body": KEPT, "reply_as": "public"}, "body"),
        ("/feed/", {"body": KEPT}, "body"),
        (f"/posts/{w['post'].pk}/comment/", {"comment-body": KEPT}, "comment-body"),
        ("/account/notifications/", {"time_zone": KEPT, "quiet_hours_start": "22:00", "quiet_hours_end": "07:00"},
         "time_zone"),
        (f"/communities/{w['slug']}/ask/", {"q-title": KEPT, "q-body": "Details"}, "q-title"),
        (f"/questions/{w['question_id']}/", {"answer-body": KEPT}, "answer-body"),
        ("/communications/policies/", {"policy-name": KEPT, "policy-channel": str(w["channel_id"]),
                                       "policy-rate_limit_per_hour": "0", "policy-time_zone": "UTC"}, "policy-name"),
    ]


BROKEN = ["\u00b2", str(10 ** 30), "2024-13-45T25:61", "nonsense", "a\u0000b", HUGE, ""]


def test_the_main_forms_answer_400_and_keep_what_was_typed(dave, worlds):
    client = _signed_in(dave)
    failures = []
    for url, valid, kept in _main_forms(worlds):
        for field in valid:
            if field == kept:
                continue
            for bad in BROKEN:
                response = _post(client, url, {**valid, field: bad})
                if response.status_code >= 500:
                    failures.append((url, field, bad[:20], response.status_code))
                elif response.status_code == 400 and KEPT not in response.content.decode():
                    failures.append((url, field, bad[:20], "typed words lost"))
            response = _post(client, url, {k: v for k, v in valid.items() if k != field})
            if response.status_code >= 500 or (response.status_code == 400 and KEPT not in response.content.decode()):
                failures.append((url, f"without {field}", response.status_code))
        for bad in BROKEN:
            response = _post(client, url, {**valid, kept: bad})
            if response.status_code >= 500:
                failures.append((url, kept, bad[:20], response.status_code))
    assert not failures, failures
