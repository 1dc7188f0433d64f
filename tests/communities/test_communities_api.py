import pytest

from communities.models import JoinRequest
from feeds.models import Notification

pytestmark = pytest.mark.django_db


def create(client, **body):
    return client.post("/api/v1/communities/", {"name": "Excel wizards", "description": "Formulas", **body}, format="json")


def test_open_community_join_ask_answer_vote_accept(api_as, alice, erin, bob):
    owner = api_as(erin)
    created = create(owner, slug="excel")
    assert created.status_code == 201 and created.json()["membership"] == "owner"
    assert api_as(alice).post("/api/v1/communities/excel/join/").json() == {"state": "member"}
    question = api_as(alice).post("/api/v1/communities/excel/questions/", {"title": "VLOOKUP returns #N/A", "body": "Why?"}, format="json")
    assert question.status_code == 201
    qid = question.json()["id"]
    api_as(bob).post("/api/v1/communities/excel/join/")
    answer = api_as(bob).post(f"/api/v1/questions/{qid}/answers/", {"body": "Check for trailing spaces."}, format="json")
    assert answer.status_code == 201
    aid = answer.json()["id"]
    assert Notification.objects.filter(recipient=alice, kind="community.answer").exists()

    assert api_as(bob).post(f"/api/v1/answers/{aid}/vote/", {"value": 1}, format="json").status_code == 400, "not your own"
    assert api_as(alice).post(f"/api/v1/answers/{aid}/vote/", {"value": 1}, format="json").json()["score"] == 1
    assert api_as(alice).post(f"/api/v1/answers/{aid}/vote/", {"value": -1}, format="json").status_code == 400, "voting twice"
    assert api_as(alice).post(f"/api/v1/answers/{aid}/vote/", {"value": 2}, format="json").status_code == 400
    assert api_as(bob).post(f"/api/v1/answers/{aid}/accept/").status_code == 403, "neither asker nor moderator"
    accepted = api_as(alice).post(f"/api/v1/answers/{aid}/accept/")
    assert accepted.status_code == 200 and accepted.json()["accepted_answer"] == aid
    assert Notification.objects.filter(recipient=bob, kind="community.accepted").exists()
    listed = api_as(bob).get("/api/v1/communities/excel/questions/").json()["results"]
    assert listed[0]["accepted_answer"] == aid and listed[0]["answer_count"] == 1


def test_private_community_is_invisible_inside_to_non_members(api_as, alice, erin, bob, make_user):
    owner = api_as(erin)
    assert create(owner, name="Finance power users", slug="finance", visibility="private").status_code == 201
    question = owner.post("/api/v1/communities/finance/questions/", {"title": "Closing the quarter"}, format="json").json()
    outsider = api_as(alice)
    assert outsider.get("/api/v1/communities/finance/questions/").status_code == 404
    assert outsider.post("/api/v1/communities/finance/questions/", {"title": "x"}, format="json").status_code == 404
    assert outsider.post(f"/api/v1/questions/{question['id']}/answers/", {"body": "x"}, format="json").status_code == 404
    assert outsider.get("/api/v1/walls/community/finance/").status_code == 404
    assert outsider.post("/api/v1/follows/", {"type": "community", "key": "finance"}, format="json").status_code == 404

    assert outsider.post("/api/v1/communities/finance/join/").json() == {"state": "pending"}
    request_id = JoinRequest.objects.get(user=alice).pk
    assert Notification.objects.filter(recipient=erin, kind="community.join_request").exists()
    member = make_user("member1")
    api_as(member)  # a plain member may not approve
    from communities.models import Community, Membership

    Membership.objects.create(community=Community.objects.get(slug="finance"), user=member)
    assert api_as(member).post(f"/api/v1/communities/finance/requests/{request_id}/approve/").status_code == 403
    assert api_as(bob).post(f"/api/v1/communities/finance/requests/{request_id}/approve/").status_code == 404, "outsiders learn nothing"
    assert owner.post(f"/api/v1/communities/finance/requests/{request_id}/approve/").json()["status"] == "approved"
    assert owner.post(f"/api/v1/communities/finance/requests/{request_id}/approve/").status_code == 400
    assert outsider.get("/api/v1/communities/finance/questions/").status_code == 200
    assert Notification.objects.filter(recipient=alice, kind="community.join_decided").exists()


def test_private_content_never_reaches_outsiders_feeds(api_as, alice, erin, django_capture_on_commit_callbacks):
    from feeds import selectors

    owner = api_as(erin)
    create(owner, name="Security champions", slug="champions", visibility="private")
    with django_capture_on_commit_callbacks(execute=True):
        owner.post("/api/v1/communities/champions/questions/", {"title": "Phishing drill next week"}, format="json")
    assert all("Phishing" not in a.summary for a in selectors.activities_since(user=alice, since=0, streams=frozenset({"community:champions"})))
    assert any("Phishing" in a.summary for a in selectors.activities_since(user=erin, since=0, streams=frozenset({"community:champions"})))


def test_bad_input_is_400(api_as, alice):
    client = api_as(alice)
    assert create(client, visibility="secret").status_code == 400
    assert create(client, name="").status_code == 400
    assert create(client, slug="ok").status_code == 201
    assert create(client, slug="ok").status_code == 400, "taken"
    assert client.post("/api/v1/communities/ok/questions/", {"title": ""}, format="json").status_code == 400
    assert client.post("/api/v1/communities/nope/join/").status_code == 404


def test_accepted_answer_becomes_an_article_credited_to_its_author(api_as, alice, erin, bob):
    create(api_as(erin), slug="excel")
    for person in (alice, bob):
        api_as(person).post("/api/v1/communities/excel/join/")
    qid = api_as(alice).post("/api/v1/communities/excel/questions/", {"title": "Freeze the top row"}, format="json").json()["id"]
    aid = api_as(bob).post(f"/api/v1/questions/{qid}/answers/", {"body": "View > Freeze Panes > Top Row"}, format="json").json()["id"]
    assert api_as(alice).post(f"/api/v1/answers/{aid}/promote/").status_code == 400, "accept it first"
    api_as(alice).post(f"/api/v1/answers/{aid}/accept/")
    article = api_as(alice).post(f"/api/v1/answers/{aid}/promote/")
    assert article.status_code == 201
    body = article.json()
    assert body["author"]["username"] == "bob" and body["title"] == "Freeze the top row" and body["community"] == "excel"


def test_unanswered_question_becomes_a_ticket_after_the_wait(api_as, alice, erin, settings):
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    create(api_as(erin), slug="excel")
    api_as(alice).post("/api/v1/communities/excel/join/")
    qid = api_as(alice).post("/api/v1/communities/excel/questions/", {"title": "Macro blocked"}, format="json").json()["id"]
    assert [q["id"] for q in api_as(alice).get("/api/v1/communities/excel/questions/?show=unanswered").json()["results"]] == [qid]
    assert [q["id"] for q in api_as(alice).get("/api/v1/communities/excel/questions/?show=mine").json()["results"]] == [qid]
    assert api_as(erin).get("/api/v1/communities/excel/questions/?show=mine").json()["results"] == []
    assert api_as(alice).get("/api/v1/communities/excel/questions/?show=odd").status_code == 400
    assert api_as(alice).post(f"/api/v1/questions/{qid}/ticket/").status_code == 400, "too early"
    assert api_as(erin).post(f"/api/v1/questions/{qid}/ticket/").status_code == 403
    with time_machine.travel(timezone.now() + timedelta(hours=settings.QUESTION_TO_TICKET_HOURS + 1)):
        made = api_as(alice).post(f"/api/v1/questions/{qid}/ticket/")
    assert made.status_code == 201
    ticket = api_as(alice).get(f"/api/v1/tickets/{made.json()['id']}/").json()
    assert ticket["requester"] == "alice" and ticket["title"] == "Macro blocked"
    assert [t["id"] for t in api_as(alice).get("/api/v1/tickets/?following=true").json()["results"]] == [ticket["id"]]


def test_rejecting_a_join_request_is_for_moderators_only(api_as, alice, erin, bob, make_user):
    from communities.models import Community, Membership

    create(api_as(erin), name="Treasury", slug="treasury", visibility="private")
    api_as(alice).post("/api/v1/communities/treasury/join/")
    request_id = JoinRequest.objects.get(user=alice).pk
    member = make_user("plainmember")
    Membership.objects.create(community=Community.objects.get(slug="treasury"), user=member)
    assert api_as(member).post(f"/api/v1/communities/treasury/requests/{request_id}/reject/").status_code == 403
    assert api_as(bob).post(f"/api/v1/communities/treasury/requests/{request_id}/reject/").status_code == 404
    assert api_as(erin).post(f"/api/v1/communities/treasury/requests/{request_id}/reject/").json()["status"] == "rejected"
    assert api_as(alice).get("/api/v1/communities/treasury/questions/").status_code == 404, "still outside"


def test_only_the_asker_the_author_or_a_moderator_promotes(api_as, alice, erin, bob, make_user):
    create(api_as(erin), slug="excel")
    bystander = make_user("bystander")
    for person in (alice, bob, bystander):
        api_as(person).post("/api/v1/communities/excel/join/")
    qid = api_as(alice).post("/api/v1/communities/excel/questions/", {"title": "Pivot tables"}, format="json").json()["id"]
    aid = api_as(bob).post(f"/api/v1/questions/{qid}/answers/", {"body": "Insert > PivotTable"}, format="json").json()["id"]
    api_as(alice).post(f"/api/v1/answers/{aid}/accept/")
    assert api_as(bystander).post(f"/api/v1/answers/{aid}/promote/").status_code == 403
    assert api_as(erin).post(f"/api/v1/answers/{aid}/promote/").status_code == 201, "the owner moderates"
