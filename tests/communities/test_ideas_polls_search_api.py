"""Ideas with votes and moderated statuses, polls with a closing time, and community search."""
from datetime import timedelta

import pytest
from django.utils import timezone

from communities import services
from communities.models import Poll
from feeds.models import Notification

pytestmark = pytest.mark.django_db


def test_ideas_vote_once_not_own_and_moderators_set_status(api_as, erin, alice, bob, open_community):
    services.community_join(actor=alice, community=open_community)
    services.community_join(actor=bob, community=open_community)
    created = api_as(alice).post("/api/v1/communities/excel/ideas/", {"title": "Monthly macro clinic", "body": "Fridays"}, format="json")
    assert created.status_code == 201 and created.json()["status"] == "new"
    idea = created.json()["id"]
    base = f"/api/v1/communities/excel/ideas/{idea}"
    assert api_as(alice).post(f"{base}/vote/").status_code == 400, "not your own"
    assert api_as(bob).post(f"{base}/vote/").json()["vote_count"] == 1
    assert api_as(bob).post(f"{base}/vote/").status_code == 400, "once"
    assert api_as(bob).patch(f"{base}/", {"status": "planned"}, format="json").status_code == 403
    assert api_as(erin).patch(f"{base}/", {"status": "someday"}, format="json").status_code == 400
    changed = api_as(erin).patch(f"{base}/", {"status": "planned", "note": "Starting in March"}, format="json")
    assert changed.json()["status"] == "planned" and changed.json()["status_note"] == "Starting in March"
    assert Notification.objects.filter(kind="community.idea_status", recipient=alice).exists()
    assert Notification.objects.filter(kind="community.idea_status", recipient=bob).exists()
    assert [i["id"] for i in api_as(bob).get("/api/v1/communities/excel/ideas/?status=planned").json()["results"]] == [idea]
    assert api_as(bob).get("/api/v1/communities/excel/ideas/?status=bogus").status_code == 400
    assert api_as(erin).post("/api/v1/communities/excel/ideas/", {"title": ""}, format="json").status_code == 400


def test_ideas_of_a_private_community_are_404_to_outsiders(api_as, erin, bob, private_community):
    idea = services.idea_create(actor=erin, community=private_community, title="Shared templates")
    assert api_as(bob).get("/api/v1/communities/finance/ideas/").status_code == 404
    assert api_as(bob).get(f"/api/v1/communities/finance/ideas/{idea.pk}/").status_code == 404
    assert api_as(bob).post(f"/api/v1/communities/finance/ideas/{idea.pk}/vote/").status_code == 404
    assert api_as(bob).patch(f"/api/v1/communities/finance/ideas/{idea.pk}/", {"status": "done"}, format="json").status_code == 404
    assert api_as(bob).post("/api/v1/communities/finance/ideas/", {"title": "x"}, format="json").status_code == 404


def test_polls_one_vote_each_and_refused_after_closing(api_as, erin, alice, bob, open_community):
    closes = (timezone.now() + timedelta(days=2)).isoformat()
    body = {"question": "Best day for the clinic?", "options": ["Monday", "Friday"], "closes_at": closes}
    created = api_as(erin).post("/api/v1/communities/excel/polls/", body, format="json")
    assert created.status_code == 201
    poll = created.json()
    friday = poll["options"][1]["id"]
    url = f"/api/v1/communities/excel/polls/{poll['id']}"
    voted = api_as(alice).post(f"{url}/vote/", {"option": friday}, format="json")
    assert voted.status_code == 200 and voted.json()["options"][1]["votes"] == 1 and voted.json()["my_vote"] == friday
    assert api_as(alice).post(f"{url}/vote/", {"option": friday}, format="json").status_code == 400, "once"
    assert api_as(bob).post(f"{url}/vote/", {"option": 999999}, format="json").status_code == 400
    Poll.objects.filter(pk=poll["id"]).update(closes_at=timezone.now() - timedelta(minutes=1))
    assert api_as(bob).post(f"{url}/vote/", {"option": friday}, format="json").status_code == 400, "closed"
    results = api_as(bob).get(f"{url}/").json()
    assert results["open"] is False and results["total"] == 1


@pytest.mark.parametrize("bad", [
    {"options": ["Only one"]},
    {"options": [str(n) for n in range(11)]},
    {"options": ["Same", "Same"]},
    {"closes_at": "2000-01-01T00:00:00Z"},
    {"closes_at": "soon"},
    {"question": ""},
])
def test_bad_polls_are_400(api_as, erin, open_community, bad):
    body = {"question": "Which?", "options": ["A", "B"], "closes_at": (timezone.now() + timedelta(days=1)).isoformat(), **bad}
    assert api_as(erin).post("/api/v1/communities/excel/polls/", body, format="json").status_code == 400


def test_poll_results_follow_the_community_visibility(api_as, erin, bob, private_community):
    poll = services.poll_create(actor=erin, community=private_community, question="Close early?", options=["Yes", "No"],
                                closes_at=timezone.now() + timedelta(days=1))
    assert api_as(bob).get(f"/api/v1/communities/finance/polls/{poll.pk}/").status_code == 404
    assert api_as(bob).get("/api/v1/communities/finance/polls/").status_code == 404
    assert api_as(erin).get(f"/api/v1/communities/finance/polls/{poll.pk}/").status_code == 200


def test_community_search_covers_what_the_caller_may_read(api_as, erin, alice, bob, open_community, private_community):
    question = services.question_ask(actor=alice, community=open_community, title="Printer driver for the plotter")
    services.answer_post(actor=bob, question=question, body="Install the plotter package from the catalogue")
    services.article_create(actor=bob, title="Plotter setup", body="Three steps to a working plotter")
    services.idea_create(actor=erin, community=open_community, title="A plotter in every office")
    services.question_ask(actor=erin, community=private_community, title="Plotter budget for finance")
    found = api_as(alice).get("/api/v1/search/community/?q=plotter").json()["results"]
    assert {h["type"] for h in found} == {"question", "answer", "article", "idea"}
    assert all("budget" not in h["title"] for h in found), "private community content stays hidden"
    assert any("budget" in h["title"] for h in api_as(erin).get("/api/v1/search/community/?q=plotter").json()["results"])
    assert api_as(alice).get("/api/v1/search/community/?q=").status_code == 400
