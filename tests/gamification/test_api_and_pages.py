"""The gamification endpoints of API.md, the pages, and their query budgets."""
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from communities import services as communities
from feeds import services as feeds
from gamification import services
from gamification.models import Bounty, Campaign, DeskVisit, PointEntry, Rule
from servicedesk.errors import ApplicationError
from tickets import services as tickets

pytestmark = pytest.mark.django_db


@pytest.fixture
def liked(django_capture_on_commit_callbacks):
    """`fans` each like one post of `author` (points land in the ledger and the boards)."""

    def make(author, fans):
        with django_capture_on_commit_callbacks(execute=True):
            for fan in fans:
                post = feeds.post_create(actor=author, wall_type="user", wall_key=author.username, body=f"post for {fan.username}")
                feeds.like_add(actor=fan, post_id=post.pk)

    return make


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- leaderboards ------------------------------------------------------------------------------


def test_leaderboard_shape_and_me(alice, bob, erin, api_as, liked):
    liked(bob, [alice, erin])
    liked(erin, [alice])
    body = api_as(erin).get("/api/v1/leaderboards/?period=week&scope=global").json()
    assert [(r["rank"], r["user"]["username"], r["points"]) for r in body["results"]] == [(1, "bob", 2), (2, "erin", 1)]
    assert body["me"] == {"rank": 2, "points": 1}
    assert api_as(alice).get("/api/v1/leaderboards/").json()["me"] == {"rank": None, "points": 0}
    for period in ("month", "all"):
        assert api_as(erin).get(f"/api/v1/leaderboards/?period={period}").json()["me"]["rank"] == 2


def test_team_and_community_scopes(alice, bob, erin, make_user, api_as, liked, community):
    communities.community_join(actor=alice, community=community)
    liked(bob, [alice])
    body = api_as(alice).get(f"/api/v1/leaderboards/?scope=team:{bob.team_id}").json()
    assert [r["user"]["username"] for r in body["results"]] == ["bob"]
    question = communities.question_ask(actor=alice, community=community, title="Q?")
    answer = communities.answer_post(actor=bob, question=question, body="A.")
    communities.answer_accept(actor=alice, answer=answer)
    # Points earned in the community count on its board (what is written there is the API's sample).
    assert PointEntry.objects.filter(community_id=community.pk).count() == 1


def test_leaderboard_bad_input_and_hidden_scopes(alice, bob, api_as):
    private = communities.community_create(actor=bob, name="Secret ops", slug="secret", visibility="private")
    client = api_as(alice)
    assert client.get("/api/v1/leaderboards/?period=year").status_code == 400
    assert client.get("/api/v1/leaderboards/?scope=planet").status_code == 400
    assert client.get("/api/v1/leaderboards/?scope=team:abc").status_code == 400
    assert client.get("/api/v1/leaderboards/?scope=team:999999").status_code == 404
    assert client.get("/api/v1/leaderboards/?scope=community:nope").status_code == 404
    response = client.get("/api/v1/leaderboards/?scope=community:secret")
    assert response.status_code == 404 and response.json() == {"message": "Not found."}
    assert api_as(bob).get(f"/api/v1/leaderboards/?scope=community:{private.slug}").status_code == 200
    assert Client().get("/api/v1/leaderboards/").status_code in (401, 403)


def test_leaderboard_api_query_count_does_not_grow(alice, bob, make_user, api_as, liked, django_assert_max_num_queries):
    client = api_as(alice)
    liked(bob, [make_user("f0")])
    with django_assert_max_num_queries(2) as small:
        client.get("/api/v1/leaderboards/?period=all")
    liked(bob, [make_user(f"g{i}") for i in range(5)])
    for i in range(15):
        liked(make_user(f"author{i}"), [make_user(f"h{i}")])
    with django_assert_max_num_queries(len(small.captured_queries)):
        body = client.get("/api/v1/leaderboards/?period=all").json()
    assert len(body["results"]) == 16


# --- achievements and the ledger ---------------------------------------------------------------


def test_achievements(alice, bob, api_as):
    ticket = tickets.ticket_create(actor=alice, kind="incident", title="Laptop will not boot", impact=2, urgency=2)
    tickets.ticket_update(actor=bob, ticket=ticket, assignee=bob, status="resolved")
    body = api_as(alice).get("/api/v1/users/bob/achievements/").json()
    assert body["points"] == 35 and body["level"] == 1
    first_fix = next(b for b in body["badges"] if b["slug"] == "first-fix")
    assert first_fix["name"] == "First Fix" and first_fix["tier"] == "bronze" and first_fix["awarded_at"]
    assert "influence" in body and "explanation" in body["influence"]
    assert api_as(alice).get("/api/v1/users/nobody/achievements/").status_code == 404
    me = api_as(bob).get("/api/v1/me/").json()
    assert me["points"] == 35 and any(b["slug"] == "first-fix" for b in me["badges"])


def test_points_ledger_visibility(alice, bob, erin, carol, api_as, liked):
    liked(bob, [alice, erin])
    own = api_as(bob).get("/api/v1/points/").json()
    assert len(own["results"]) == 2 and "next" in own
    entry = own["results"][0]
    assert set(entry) >= {"points", "reason", "created_at", "source"}
    assert entry["source"]["type"] == "post" and entry["points"] == 1
    assert api_as(bob).get("/api/v1/points/?user=bob").json() == own
    assert api_as(carol).get("/api/v1/points/?user=bob").json()["results"] == own["results"]
    denied = api_as(alice).get("/api/v1/points/?user=bob")
    assert denied.status_code == 403 and "message" in denied.json()
    assert api_as(alice).get("/api/v1/points/?user=ghost").status_code == 404


def test_reversals_show_in_the_ledger(alice, bob, api_as, liked):
    liked(bob, [alice])
    post = PointEntry.objects.get(user=bob).source_id
    feeds.like_remove(actor=alice, post_id=post)
    results = api_as(bob).get("/api/v1/points/").json()["results"]
    assert [r["points"] for r in results] == [-1, 1]
    assert results[0]["reversal_of"] == results[1]["id"]


# --- campaigns ---------------------------------------------------------------------------------


def _campaign_body(**extra):
    now = timezone.now()
    return {"name": "Outlook week", "starts_at": (now - timedelta(hours=1)).isoformat(),
            "ends_at": (now + timedelta(days=7)).isoformat(), "rule": "article_published", "multiplier": 2, **extra}


def test_campaigns_are_created_by_managers_only(alice, bob, carol, dave, api_as):
    assert api_as(alice).post("/api/v1/campaigns/", _campaign_body(), format="json").status_code == 403
    assert api_as(bob).post("/api/v1/campaigns/", _campaign_body(), format="json").status_code == 403
    created = api_as(carol).post("/api/v1/campaigns/", _campaign_body(tag="outlook"), format="json")
    assert created.status_code == 201
    body = created.json()
    assert {k: body[k] for k in ("name", "rule", "multiplier")} == {"name": "Outlook week", "rule": "article_published", "multiplier": 2.0}
    assert api_as(dave).post("/api/v1/campaigns/", _campaign_body(name="Quest", goal=20, bonus_points=50), format="json").status_code == 201
    listed = api_as(alice).get("/api/v1/campaigns/").json()["results"]
    assert {c["name"] for c in listed} == {"Outlook week", "Quest"}
    assert Campaign.objects.count() == 2


def test_campaign_bad_input_is_400(carol, api_as):
    client = api_as(carol)
    now = timezone.now()
    backwards = _campaign_body(starts_at=now.isoformat(), ends_at=(now - timedelta(days=1)).isoformat())
    response = client.post("/api/v1/campaigns/", backwards, format="json")
    assert response.status_code == 400 and "ends_at" in response.json()["errors"]
    assert client.post("/api/v1/campaigns/", _campaign_body(rule="nope"), format="json").status_code == 400
    assert client.post("/api/v1/campaigns/", _campaign_body(multiplier=50), format="json").status_code == 400
    assert client.post("/api/v1/campaigns/", {"name": "x"}, format="json").status_code == 400


def test_campaign_detail_progress(alice, bob, carol, api_as):
    campaign = services.campaign_create(
        actor=carol, name="Close five", rule=Rule.objects.get(slug="ticket_resolved"), multiplier=1,
        starts_at=timezone.now() - timedelta(hours=1), ends_at=timezone.now() + timedelta(days=1), goal=5, bonus_points=10,
    )
    ticket = tickets.ticket_create(actor=alice, kind="incident", title="Wi-Fi drops", impact=3, urgency=3)
    tickets.ticket_update(actor=bob, ticket=ticket, assignee=bob, status="resolved")
    body = api_as(bob).get(f"/api/v1/campaigns/{campaign.pk}/").json()
    assert body["progress"] == [{"user": {"username": "bob"}, "count": 1, "points": 10, "done": False, "percent": 20}]
    assert body["mine"] == {"count": 1, "percent": 20, "done": False}
    assert api_as(bob).get("/api/v1/campaigns/999999/").status_code == 404


def test_private_community_campaigns_are_hidden_from_outsiders(alice, bob, carol, api_as):
    private = communities.community_create(actor=bob, name="Secret ops", slug="secret", visibility="private")
    campaign = services.campaign_create(actor=carol, name="Secret push", rule=Rule.objects.get(slug="answer_accepted"),
                                        starts_at=timezone.now(), ends_at=timezone.now() + timedelta(days=1), community=private)
    assert api_as(alice).get(f"/api/v1/campaigns/{campaign.pk}/").status_code == 404
    assert api_as(alice).get("/api/v1/campaigns/").json()["results"] == []
    assert api_as(bob).get(f"/api/v1/campaigns/{campaign.pk}/").status_code == 200


# --- rules, desk visits, bounties --------------------------------------------------------------


def test_rules_api(bob, carol, api_as):
    assert any(r["slug"] == "desk_visit" for r in api_as(bob).get("/api/v1/rules/").json()["results"])
    assert api_as(bob).patch("/api/v1/rules/desk_visit/", {"points": 50}, format="json").status_code == 403
    response = api_as(carol).patch("/api/v1/rules/desk_visit/", {"points": 8, "daily_cap": 40}, format="json")
    assert response.status_code == 200 and response.json()["points"] == 8
    assert api_as(carol).patch("/api/v1/rules/desk_visit/", {"points": "many"}, format="json").status_code == 400
    assert api_as(carol).patch("/api/v1/rules/nope/", {"points": 1}, format="json").status_code == 404


def test_desk_visit_api(alice, bob, erin, api_as):
    ticket = tickets.ticket_create(actor=alice, kind="incident", title="Dock", impact=3, urgency=3)
    response = api_as(bob).post(f"/api/v1/tickets/{ticket.pk}/desk-visits/", {"note": "Replaced the dock"}, format="json")
    assert response.status_code == 201 and response.json()["note"] == "Replaced the dock"
    assert api_as(alice).post(f"/api/v1/tickets/{ticket.pk}/desk-visits/", {}, format="json").status_code == 403
    assert api_as(erin).post(f"/api/v1/tickets/{ticket.pk}/desk-visits/", {}, format="json").status_code == 404
    assert api_as(bob).post(f"/api/v1/tickets/{ticket.pk}/desk-visits/", {"note": "x" * 600}, format="json").status_code == 400
    assert DeskVisit.objects.count() == 1


def test_bounty_api(bob, carol, api_as):
    problem = tickets.ticket_create(actor=bob, kind="problem", title="Mail relay", impact=2, urgency=2)
    assert api_as(bob).post(f"/api/v1/tickets/{problem.pk}/bounty/", {"points": 50}, format="json").status_code == 403
    assert api_as(carol).post(f"/api/v1/tickets/{problem.pk}/bounty/", {"points": 0}, format="json").status_code == 400
    assert api_as(carol).post(f"/api/v1/tickets/{problem.pk}/bounty/", {"points": 50}, format="json").status_code == 201


def test_unaccept_api(alice, bob, erin, api_as, community):
    communities.community_join(actor=alice, community=community)
    question = communities.question_ask(actor=alice, community=community, title="Q?")
    answer = communities.answer_post(actor=bob, question=question, body="A.")
    communities.answer_accept(actor=alice, answer=answer)
    assert api_as(erin).post(f"/api/v1/answers/{answer.pk}/unaccept/").status_code == 403
    response = api_as(alice).post(f"/api/v1/answers/{answer.pk}/unaccept/")
    assert response.status_code == 200 and response.json()["accepted_answer"] is None


# --- pages -------------------------------------------------------------------------------------


def test_dashboard_is_for_managers(alice, bob, carol):
    assert signed_in(bob).get("/manage/").status_code == 403
    assert signed_in(alice).get("/manage/dashboard.csv").status_code == 403
    page = signed_in(carol).get("/manage/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Resolution SLA met" in html and "<svg" in html and "Maturity level" in html


def test_dashboard_figures_and_csv(alice, bob, carol):
    from gamification import rollups

    ticket = tickets.ticket_create(actor=alice, kind="incident", title="Laptop", impact=3, urgency=3)
    tickets.ticket_update(actor=bob, ticket=ticket, assignee=bob, status="resolved")
    tickets.rating_create(actor=alice, ticket=ticket, score=4)
    tickets.ticket_create(actor=alice, kind="incident", title="Second", impact=1, urgency=1)
    rollups.rollups_refresh_recent()
    response = signed_in(carol).get("/manage/dashboard.csv")
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode()
    assert "day starting,Active people,Social actions,Tickets saved by knowledge,Tickets resolved" in text
    assert "Resolution SLA met (%),100.0" in text and "Average satisfaction (/ 5),4.0" in text and "backlog P1,1" in text


def test_leaderboard_page_and_its_query_budget(alice, bob, make_user, liked, django_assert_max_num_queries):
    client = signed_in(alice)
    liked(bob, [make_user("f0")])
    client.get("/leaderboard/")
    with django_assert_max_num_queries(30) as small:
        page = client.get("/leaderboard/?period=all")
    assert 'data-live-stream="leaderboard:all"' in page.content.decode()
    for i in range(12):
        liked(make_user(f"author{i}"), [make_user(f"h{i}")])
    with django_assert_max_num_queries(len(small.captured_queries)):
        page = client.get("/leaderboard/?period=all")
    assert page.content.decode().count('<tr data-username=') == 13
    fragment = client.get("/leaderboard/board/?period=all")
    assert 'id="board-content"' in fragment.content.decode()
    assert client.get("/leaderboard/?scope=community:nope").status_code == 404


def test_campaign_pages(alice, bob, carol):
    assert signed_in(alice).post("/campaigns/", {"name": "x"}).status_code == 403
    page = signed_in(carol).get("/campaigns/")
    assert "Start a campaign" in page.content.decode()
    now = timezone.now()
    bad = signed_in(carol).post("/campaigns/", {"name": "Late", "rule": "ticket_resolved", "multiplier": "2",
                                                "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
                                                "ends_at": (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")})
    assert bad.status_code == 400 and "must end after it starts" in bad.content.decode()
    response = signed_in(carol).post("/campaigns/", {
        "name": "Resolve week", "rule": "ticket_resolved", "multiplier": "2", "goal": "3", "bonus_points": "10",
        "starts_at": (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"), "ends_at": (now + timedelta(days=6)).strftime("%Y-%m-%dT%H:%M"),
    })
    campaign = Campaign.objects.get(name="Resolve week")
    assert response.status_code == 302 and response["Location"] == campaign.get_absolute_url()
    ticket = tickets.ticket_create(actor=alice, kind="incident", title="Mouse broken", impact=3, urgency=3)
    tickets.ticket_update(actor=bob, ticket=ticket, assignee=bob, status="resolved")
    html = signed_in(alice).get(campaign.get_absolute_url()).content.decode()
    assert 'id="campaign-progress-chart"' in html and "Bob Okafor" in html


def test_rules_page(bob, carol):
    assert signed_in(bob).get("/manage/rules/").status_code == 403
    client = signed_in(carol)
    assert "Visited a user at their desk" in client.get("/manage/rules/").content.decode()
    response = client.post("/manage/rules/", {"rule": "desk_visit", "desk_visit-points": "7", "desk_visit-daily_cap": "21",
                                               "desk_visit-active": "on"})
    assert response.status_code == 302
    assert Rule.objects.get(slug="desk_visit").points == 7
    assert client.post("/manage/rules/", {"rule": "desk_visit", "desk_visit-points": "x", "desk_visit-daily_cap": "1"}).status_code == 400


def test_profile_shows_achievements(alice, bob):
    ticket = tickets.ticket_create(actor=alice, kind="incident", title="Headset crackles", impact=3, urgency=3)
    tickets.ticket_update(actor=bob, ticket=ticket, assignee=bob, status="resolved")
    html = signed_in(alice).get("/people/bob/").content.decode()
    assert 'id="profile-points">35<' in html and "First Fix" in html and "How influence is counted" in html


def test_desk_visit_control_on_the_ticket_page(alice, bob):
    ticket = tickets.ticket_create(actor=alice, kind="incident", title="Dock", impact=3, urgency=3)
    client = signed_in(bob)
    assert "Log a desk visit" in client.get(ticket.get_absolute_url()).content.decode()
    assert "Log a desk visit" not in signed_in(alice).get(ticket.get_absolute_url()).content.decode()
    response = client.post(f"/tickets/{ticket.pk}/desk-visit/", {"note": "Swapped it"})
    assert response.status_code == 302 and DeskVisit.objects.get().note == "Swapped it"
    assert signed_in(alice).post(f"/tickets/{ticket.pk}/desk-visit/").status_code == 403


def test_bounty_control_on_the_problem_page(alice, bob, carol):
    problem = tickets.ticket_create(actor=carol, kind="problem", title="Mail relay drops messages", impact=2, urgency=2)
    incident = tickets.ticket_create(actor=alice, kind="incident", title="Mail is slow", impact=3, urgency=3)
    url = problem.get_absolute_url()
    manager, agent = signed_in(carol), signed_in(bob)

    assert 'id="bounty"' not in manager.get(incident.get_absolute_url()).content.decode()
    html = manager.get(url).content.decode()
    assert "No bounty on this problem yet" in html and "Set a bounty" in html and 'for="bounty_points"' in html
    assert 'id="bounty"' not in agent.get(url).content.decode(), "agents see a bounty only once there is one"

    # Denied: an agent may not set one, an end user who cannot see the problem learns nothing.
    assert agent.post(f"/tickets/{problem.pk}/bounty/", {"points": "50"}).status_code == 403
    assert signed_in(alice).post(f"/tickets/{problem.pk}/bounty/", {"points": "50"}).status_code == 404
    assert manager.post(f"/tickets/{incident.pk}/bounty/", {"points": "50"}).status_code == 404
    assert not Bounty.objects.exists()

    bad = manager.post(f"/tickets/{problem.pk}/bounty/", {"points": "0"})
    text = bad.content.decode()
    assert bad.status_code == 400 and "The bounty was not set" in text
    assert 'aria-describedby="bounty_points_helptext bounty_points_error" id="bounty_points"' in text
    response = manager.post(f"/tickets/{problem.pk}/bounty/", {"points": "50", "note": "Root cause, not a restart"})
    assert response.status_code == 302 and response["Location"] == f"{url}#bounty"
    assert Bounty.objects.get(ticket=problem).points == 50

    html = agent.get(url).content.decode()
    assert "50 points</strong> for whoever resolves this problem: Root cause, not a restart" in html
    assert "Not collected yet" in html and "Set a bounty" not in html and "Change the bounty" not in html

    tickets.ticket_update(actor=bob, ticket=problem, assignee=bob, status="resolved")
    html = manager.get(url).content.decode()
    assert 'Collected by <a href="/people/bob/">Bob Okafor</a> (50 points' in html
    assert "Change the bounty" not in html, "a resolved problem's bounty is history"
    late = manager.post(f"/tickets/{problem.pk}/bounty/", {"points": "80"})
    assert late.status_code == 400 and "already resolved" in late.content.decode()
    assert Bounty.objects.get(ticket=problem).points == 50


def test_leaderboard_scope_with_a_digit_that_is_no_number_is_400(alice, api_as):
    # "²" is a digit to str.isdigit() but not a number to int().
    response = api_as(alice).get("/api/v1/leaderboards/?scope=team:\u00b2")
    assert response.status_code == 400 and "scope" in response.json()["errors"]
    # The page shows the global board instead, as for any scope it does not understand.
    assert signed_in(alice).get("/leaderboard/?scope=team:\u00b2").status_code == 200


def test_a_desk_visit_note_with_a_nul_character_is_refused_not_a_500(alice, bob):
    ticket = tickets.ticket_create(actor=alice, kind="incident", title="Dock", impact=3, urgency=3)
    response = signed_in(bob).post(f"/tickets/{ticket.pk}/desk-visit/", {"note": "Replaced\u0000"})
    assert response.status_code == 302
    with pytest.raises(ApplicationError, match="cannot be stored"):
        services.desk_visit_log(actor=bob, ticket=ticket, note="Replaced\u0000")
    assert DeskVisit.objects.count() == 0


def test_ledger_hides_what_a_private_community_said_from_a_manager_outside_it(alice, bob, erin, carol, api_as, liked):
    """A manager reads anyone's ledger, but a private community's titles stay in the community."""
    private = communities.community_create(actor=bob, name="Secret ops", slug="secret", visibility="private")
    invitation = communities.invitation_create(actor=bob, community=private, user=erin)
    communities.invitation_decide(actor=erin, invitation_id=invitation.pk, accept=True)
    question = communities.question_ask(actor=erin, community=private, title="Project Falcon merger layoffs")
    answer = communities.answer_post(actor=bob, question=question, body="Ask HR about the Falcon list.")
    communities.answer_vote(actor=erin, answer=answer, value=1)
    post = feeds.post_create(actor=bob, wall_type="community", wall_key="secret", body="Falcon list is final")
    feeds.like_add(actor=erin, post_id=post.pk)
    liked(bob, [alice])  # a like on his own wall: nothing private about it

    own = api_as(bob).get("/api/v1/points/").json()["results"]
    assert any("Falcon" in e["source"]["title"] for e in own) and any("Falcon" in e["reason"] for e in own)

    seen = api_as(carol).get("/api/v1/points/?user=bob")
    assert seen.status_code == 200
    results = seen.json()["results"]
    assert [e["points"] for e in results] == [e["points"] for e in own]
    assert "Falcon" not in seen.content.decode()
    private_entries = [e for e in results if e["source"]["type"] in ("answer", "post") and e["source"]["title"] != "post for alice"]
    assert len(private_entries) == 2
    assert all(e["source"]["title"] == "in a private community" and e["source"]["url"] == "" for e in private_entries)
    assert all("in a private community" in e["reason"] for e in private_entries)
    public = next(e for e in results if e["source"]["title"] == "post for alice")
    assert public["source"]["url"] == f"/posts/{public['source']['id']}/"

    # A member of the community (a manager too) sees the titles.
    communities.invitation_decide(
        actor=carol, invitation_id=communities.invitation_create(actor=bob, community=private, user=carol).pk, accept=True)
    assert "Falcon" in api_as(carol).get("/api/v1/points/?user=bob").content.decode()
