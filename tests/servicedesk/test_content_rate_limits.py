"""Per-person content rate limits: 429 with Retry-After on the API, the form again on pages.

The limits are the production defaults (settings.CONTENT_RATE_LIMITS); each test spends one.
"""
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services as account_services
from communities import services as communities
from communities.models import Answer, AnswerComment, Question
from feeds import services as feeds
from feeds.models import Follow, Post, PostComment
from servicedesk.ratelimit import parse_rate
from tickets import services as tickets
from tickets.models import Comment, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def start_of_a_window():
    """Limits are fixed windows counted from the epoch: a burst that straddles a window's end
    would be let through by the next one. Each test starts on the hour (every window's start)
    with the clock running, so its burst stays in one window however slow the machine."""
    with time_machine.travel(datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC), tick=True):
        yield


def allowance(action: str) -> int:
    return parse_rate(settings.CONTENT_RATE_LIMITS[action]).count


def window(action: str) -> int:
    return parse_rate(settings.CONTENT_RATE_LIMITS[action]).seconds


def assert_rate_limited(response, action: str):
    assert response.status_code == 429, response.content
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= window(action)
    body = response.json()
    assert body["code"] == "rate_limited" and body["retry_after"] == retry_after
    assert "too fast" in body["message"] and set(body) <= {"message", "errors", "code", "retry_after"}


def public_ticket(actor, title="VPN drops"):
    return tickets.ticket_create(actor=actor, kind="incident", title=title, impact=2, urgency=2, visibility="public")


@pytest.fixture
def community(erin, alice):
    made = communities.community_create(actor=erin, name="Excel wizards", slug="excel")
    communities.community_join(actor=alice, community=made)
    return made


# Each action: (setup(people) -> state, request(client, state, n) -> response, count of what was written).
def _nothing(people):
    return None


ACTIONS = {
    "post": (
        _nothing,
        lambda c, s, n: c.post("/api/v1/posts/", {"body": f"Note {n}", "wall": {"type": "user", "key": "alice"}}, format="json"),
        lambda s: Post.objects.count(),
    ),
    "ticket": (
        _nothing,
        lambda c, s, n: c.post("/api/v1/tickets/", {"kind": "incident", "title": f"Printer {n}", "impact": 3, "urgency": 3,
                                                    "visibility": "private"}, format="json"),
        lambda s: Ticket.objects.count(),
    ),
    "comment": (
        lambda p: public_ticket(p["erin"]),
        lambda c, s, n: c.post(f"/api/v1/tickets/{s.pk}/comments/", {"body": f"Still broken {n}"}, format="json"),
        lambda s: Comment.objects.count(),
    ),
    "like": (
        lambda p: feeds.post_create(actor=p["erin"], wall_type="user", wall_key="erin", body="Lunch at noon"),
        # Liking and taking it back both count: toggling is what floods people.
        lambda c, s, n: (c.post if n % 2 == 0 else c.delete)(f"/api/v1/posts/{s.pk}/like/"),
        lambda s: Post.objects.get(pk=s.pk).like_count,
    ),
    "follow": (
        lambda p: [p["make_user"](f"person{i}") for i in range(allowance("follow") + 1)],
        lambda c, s, n: c.post("/api/v1/follows/", {"type": "user", "key": s[n].username}, format="json"),
        lambda s: Follow.objects.filter(target_type="user").count(),
    ),
    "live_ticket": (
        _nothing,
        lambda c, s, n: c.post("/api/v1/live/ticket/"),
        # Live tickets are signed, never stored: there is no row to count (the 429 is the refusal).
        lambda s: 0,
    ),
}


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_each_action_answers_429_with_retry_after_past_its_limit(action, api_as, alice, erin, make_user):
    setup, send, written = ACTIONS[action]
    state = setup({"alice": alice, "erin": erin, "make_user": make_user})
    client = api_as(alice)
    for n in range(allowance(action)):
        response = send(client, state, n)
        assert response.status_code in (200, 201, 204), (n, response.content)
    before = written(state)
    refused = send(client, state, allowance(action))
    assert_rate_limited(refused, action)
    assert written(state) == before, "a refused request writes nothing"
    # Someone else is not held back by alice's burst.
    assert send(api_as(make_user("frank")), state, 0).status_code in (200, 201, 204)


def test_the_limit_opens_again_when_the_window_ends(api_as, alice):
    client = api_as(alice)
    send = ACTIONS["post"][1]
    for n in range(allowance("post")):
        assert send(client, None, n).status_code == 201
    refused = send(client, None, 99)
    assert_rate_limited(refused, "post")
    with time_machine.travel(timezone.now() + timedelta(seconds=int(refused["Retry-After"]) + 1)):
        assert send(client, None, 100).status_code == 201


def test_the_limit_holds_across_two_clients_of_the_same_person(alice):
    by_token = APIClient()
    _, key = account_services.api_token_create(user=alice)
    by_token.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    by_session = APIClient()
    by_session.force_login(alice)
    send = ACTIONS["post"][1]
    for n in range(allowance("post")):
        assert send(by_token if n % 2 else by_session, None, n).status_code == 201
    assert_rate_limited(send(by_token, None, 98), "post")
    assert_rate_limited(send(by_session, None, 99), "post")


def test_ticket_comments_post_comments_and_answers_share_one_comment_allowance(api_as, alice, erin, community):
    ticket = public_ticket(erin)
    post = feeds.post_create(actor=erin, wall_type="user", wall_key="erin", body="Lunch at noon")
    question = communities.question_ask(actor=erin, community=community, title="VLOOKUP or XLOOKUP?")
    answer = communities.answer_post(actor=erin, question=question, body="XLOOKUP")
    client = api_as(alice)
    paths = [f"/api/v1/tickets/{ticket.pk}/comments/", f"/api/v1/posts/{post.pk}/comments/",
             f"/api/v1/questions/{question.pk}/answers/", f"/api/v1/answers/{answer.pk}/comments/"]
    for n in range(allowance("comment")):
        response = client.post(paths[n % 4], {"body": f"Thoughts {n}"}, format="json")
        assert response.status_code == 201, (paths[n % 4], response.content)
    counts = (Comment.objects.count(), PostComment.objects.count(), Answer.objects.count(), AnswerComment.objects.count())
    for path in paths:
        assert_rate_limited(client.post(path, {"body": "One more"}, format="json"), "comment")
    assert (Comment.objects.count(), PostComment.objects.count(), Answer.objects.count(), AnswerComment.objects.count()) == counts


def test_community_questions_count_as_posts(api_as, alice, community):
    client = api_as(alice)
    for n in range(allowance("post")):
        response = client.post(f"/api/v1/communities/{community.slug}/questions/", {"title": f"Pivot tables {n}?"}, format="json")
        assert response.status_code == 201, response.content
    refused = client.post(f"/api/v1/communities/{community.slug}/questions/", {"title": "One more?"}, format="json")
    assert_rate_limited(refused, "post")
    assert Question.objects.count() == allowance("post")


def test_agents_may_comment_more_than_end_users(api_as, alice, bob):
    assert allowance("comment.staff") > allowance("comment")
    ticket = public_ticket(alice)
    for person in (alice, bob):
        client = api_as(person)
        for n in range(allowance("comment")):
            assert client.post(f"/api/v1/tickets/{ticket.pk}/comments/", {"body": f"Update {n}"}, format="json").status_code == 201
    extra = {"body": "One more update"}
    assert_rate_limited(api_as(alice).post(f"/api/v1/tickets/{ticket.pk}/comments/", extra, format="json"), "comment")
    assert api_as(bob).post(f"/api/v1/tickets/{ticket.pk}/comments/", extra, format="json").status_code == 201


def test_limits_are_read_from_settings(api_as, alice, settings):
    settings.CONTENT_RATE_LIMITS = {**settings.CONTENT_RATE_LIMITS, "ticket": "2/h"}
    send = ACTIONS["ticket"][1]
    client = api_as(alice)
    assert [send(client, None, n).status_code for n in range(3)] == [201, 201, 429]
    assert 1 <= int(send(client, None, 3)["Retry-After"]) <= 3600
    settings.CONTENT_RATE_LIMITS = {**settings.CONTENT_RATE_LIMITS, "ticket": "off"}
    assert send(client, None, 4).status_code == 201


@pytest.mark.parametrize("text", ["30/min", "10/10m", "100/h", "5 / 2 hour"])
def test_rates_parse(text):
    rate = parse_rate(text)
    assert rate.count > 0 and rate.seconds > 0


@pytest.mark.parametrize("text", ["", "ten/min", "10/fortnight", "10/0m", "10"])
def test_bad_rates_are_refused(text):
    with pytest.raises(ValueError):
        parse_rate(text)


def test_work_done_outside_a_request_is_never_limited(alice, erin):
    """Tasks, management commands and seeding call the services directly: nobody is throttled."""
    ticket = public_ticket(erin)
    for n in range(allowance("ticket") + 5):
        public_ticket(alice, title=f"Imported {n}")
    for n in range(allowance("comment") + 5):
        tickets.comment_add(actor=alice, ticket=ticket, body=f"Imported {n}")
    assert Ticket.objects.filter(requester=alice).count() == allowance("ticket") + 5


def test_a_security_report_is_never_refused_for_being_one_ticket_too_many(client, alice):
    client.force_login(alice)
    for n in range(allowance("ticket")):
        assert client.post("/api/v1/tickets/", {"kind": "incident", "title": f"T{n}", "impact": 3, "urgency": 3},
                           content_type="application/json").status_code == 201
    assert client.post("/api/v1/tickets/", {"kind": "incident", "title": "More", "impact": 3, "urgency": 3},
                       content_type="application/json").status_code == 429
    from servicedesk import ratelimit

    with ratelimit.enforced():  # as inside the "This wasn't me" request
        incident = tickets.security_incident_open(reporter=alice, title="Sign-in I do not recognise", description="Lisbon")
    assert incident.requester == alice


# --- mentions -------------------------------------------------------------------------------------


def test_a_post_may_mention_at_most_the_configured_number_of_people(api_as, alice, make_user):
    people = [make_user(f"m{i}") for i in range(settings.MENTIONS_MAX + 1)]
    client = api_as(alice)
    too_many = " ".join(f"@{p.username}" for p in people)
    response = client.post("/api/v1/posts/", {"body": f"hey {too_many}", "wall": {"type": "user", "key": "alice"}}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["body"] and not Post.objects.exists()
    enough = " ".join(f"@{p.username}" for p in people[:-1]) + " @alice"  # oneself does not count
    response = client.post("/api/v1/posts/", {"body": f"hey {enough}", "wall": {"type": "user", "key": "alice"}}, format="json")
    assert response.status_code == 201


def test_community_texts_have_the_same_mention_cap(api_as, alice, community, make_user):
    names = " ".join(f"@{make_user(f'q{i}').username}" for i in range(settings.MENTIONS_MAX + 1))
    response = api_as(alice).post(f"/api/v1/communities/{community.slug}/questions/",
                                  {"title": "Who knows macros?", "body": names}, format="json")
    assert response.status_code == 400 and response.json()["errors"]["body"]
    assert not Question.objects.exists()


# --- pages ----------------------------------------------------------------------------------------


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_feed_page_shows_the_limit_and_keeps_the_typed_post(alice):
    client = signed_in(alice)
    for n in range(allowance("post")):
        assert client.post("/feed/", {"post-body": f"Note {n}"}).status_code == 302
    response = client.post("/feed/", {"post-body": "My carefully typed thoughts"})
    assert response.status_code == 429
    page = response.content.decode()
    assert "too fast" in page and "My carefully typed thoughts" in page
    assert Post.objects.count() == allowance("post")


def test_ticket_page_shows_the_limit_and_keeps_the_typed_reply(alice, erin):
    ticket = public_ticket(erin)
    client = signed_in(alice)
    for n in range(allowance("comment")):
        assert client.post(f"/tickets/{ticket.pk}/comment/", {"body": f"Reply {n}"}).status_code == 302
    response = client.post(f"/tickets/{ticket.pk}/comment/", {"body": "A reply I do not want to lose"})
    assert response.status_code == 429
    page = response.content.decode()
    assert "too fast" in page and "A reply I do not want to lose" in page


def test_portal_shows_the_limit_and_keeps_the_typed_ticket(alice):
    client = signed_in(alice)
    form = {"kind": "incident", "description": "Paper everywhere", "impact": "3", "urgency": "3", "visibility": "private"}
    for n in range(allowance("ticket")):
        response = client.post("/portal/", {**form, "title": f"Printer {n}"})
        assert response.status_code == 302, response.content.decode()[:2000]
    response = client.post("/portal/", {**form, "title": "The scanner eats badges"})
    assert response.status_code == 429
    page = response.content.decode()
    assert "too fast" in page and "The scanner eats badges" in page and "Paper everywhere" in page


def test_post_comment_and_like_pages_answer_429(alice, erin):
    post = feeds.post_create(actor=erin, wall_type="user", wall_key="erin", body="Lunch at noon")
    client = signed_in(alice)
    for n in range(allowance("comment")):
        assert client.post(f"/posts/{post.pk}/comment/", {"comment-body": f"Yum {n}"}).status_code == 302
    response = client.post(f"/posts/{post.pk}/comment/", {"comment-body": "Save me a seat"})
    assert response.status_code == 429 and "Save me a seat" in response.content.decode()
    for n in range(allowance("like")):
        assert client.post(f"/posts/{post.pk}/{'like' if n % 2 == 0 else 'unlike'}/").status_code == 302
    response = client.post(f"/posts/{post.pk}/like/")
    assert response.status_code == 429 and "too fast" in response.content.decode()


def test_community_pages_answer_429_and_keep_the_text(alice, erin, community):
    question = communities.question_ask(actor=erin, community=community, title="VLOOKUP or XLOOKUP?")
    answer = communities.answer_post(actor=erin, question=question, body="XLOOKUP")
    client = signed_in(alice)
    for n in range(allowance("comment")):
        assert client.post(f"/answers/{answer.pk}/comment/", {f"comment-{answer.pk}-body": f"Thanks {n}"}).status_code == 302
    response = client.post(f"/answers/{answer.pk}/comment/", {f"comment-{answer.pk}-body": "INDEX/MATCH still wins"})
    assert response.status_code == 429
    assert "too fast" in response.content.decode() and 'value="INDEX/MATCH still wins"' in response.content.decode()
    response = client.post(f"/questions/{question.pk}/", {"answer-body": "Power Query, really"})
    assert response.status_code == 429 and "Power Query, really" in response.content.decode()


def test_follow_buttons_answer_429_with_the_reason(alice, erin, make_user):
    ticket = public_ticket(erin)
    client = signed_in(alice)
    for n in range(allowance("follow")):
        assert client.post("/follow/", {"type": "user", "key": make_user(f"p{n}").username}).status_code == 302
    response = client.post("/follow/", {"type": "user", "key": "erin"})
    assert response.status_code == 429 and "too fast" in response.content.decode()
    response = client.post(f"/tickets/{ticket.pk}/follow/", HTTP_HX_REQUEST="true")
    assert response.status_code == 429 and "too fast" in response.content.decode()
    assert not Follow.objects.filter(user=alice, target_type__in=["ticket"], reason="manual").exists()
