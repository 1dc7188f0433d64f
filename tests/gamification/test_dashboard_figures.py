"""The manager dashboard: figures checked against values computed by hand on a fixed dataset,
the date range and team filters, drill-downs, the CSV, the social IT plan and maturity levels,
who may see them, and the query budget (the page reads the daily rollups only)."""
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.test import Client

from accounts import services as account_services
from communities import services as communities
from feeds import services as feeds
from gamification import dashboard, rollups, services, tasks
from gamification.models import MaturitySnapshot
from servicedesk.errors import ApplicationError
from tickets import services as tickets

pytestmark = pytest.mark.django_db

DAY = date(2026, 3, 2)
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


def at(hour: int, minute: int = 0, day: date = DAY):
    return time_machine.travel(datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC), tick=False)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def plan(actor, **overrides):
    targets = {"summary": "Grow the **community** in 2026.", "satisfaction_target": Decimal("3.0"),
               "response_sla_target": 90, "active_share_target": 50, "social_ticket_target": 50,
               "collaboration_target": 0, "community_answer_target": 50, "first_answer_hours_target": 2,
               "ideas_done_target": 0}
    return services.maturity_plan_create(actor=actor, **{**targets, **overrides})


@pytest.fixture
def dataset(alice, erin, bob, carol, dave):
    """One Monday of work, every timestamp fixed, so each figure can be computed by hand."""
    desk = account_services.team_get_or_create(name="Service Desk")
    network = account_services.team_get_or_create(name="Network")
    with at(9):
        t1 = tickets.ticket_create(actor=alice, kind="incident", title="Outlook crashes", impact=3, urgency=3)
        t2 = tickets.ticket_create(actor=alice, kind="incident", title="VPN drops", impact=3, urgency=3, visibility="public")
        tickets.ticket_update(actor=bob, ticket=t1, team=desk)
        tickets.ticket_update(actor=bob, ticket=t2, team=desk)
    with at(8):
        t3 = tickets.ticket_create(actor=erin, kind="incident", title="Switch down", impact=3, urgency=3)
        tickets.ticket_update(actor=bob, ticket=t3, team=network)
    with at(9, 30):
        tickets.comment_add(actor=bob, ticket=t2, body="Looking at it.")           # first response after 30 min
    with at(10):
        tickets.comment_add(actor=bob, ticket=t1, body="Try safe mode.")           # first response after 60 min
        tickets.comment_add(actor=bob, ticket=t2, body="Please reconnect.")        # a second reply: not first contact
        tickets.ticket_follow(actor=erin, ticket=t2)                               # a follower beyond the requester
    with at(11):
        tickets.ticket_update(actor=bob, ticket=t2, assignee=bob, status="resolved")   # 120 min
    with at(12):
        tickets.ticket_update(actor=bob, ticket=t1, assignee=bob, status="resolved")   # 180 min
    with at(13):
        tickets.rating_create(actor=alice, ticket=t1, score=5)
    with at(14):
        tickets.rating_create(actor=alice, ticket=t2, score=2)
    # Knowledge: alice opens two suggestions for one search and logs nothing (one ticket saved);
    # erin opens one and logs a ticket anyway within the hour (nothing saved).
    with at(15):
        tickets.deflection_record(actor=alice, query="vpn", outcome="opened", suggestion_type="article", suggestion_key="1")
    with at(15, 5):
        tickets.deflection_record(actor=alice, query="vpn", outcome="opened", suggestion_type="article", suggestion_key="2")
    with at(16):
        tickets.deflection_record(actor=erin, query="printer", outcome="opened", suggestion_type="article", suggestion_key="1")
    with at(16, 30):
        tickets.deflection_record(actor=erin, query="printer", outcome="logged")
    # Community: alice's question is first answered by erin (2 h), erin's by bob, staff (1 h).
    with at(8):
        club = communities.community_create(actor=dave, name="Remote work", slug="remote")
    with at(10):
        q1 = communities.question_ask(actor=alice, community=club, title="Second screen at home?")
        q2 = communities.question_ask(actor=erin, community=club, title="Headset for calls?")
    with at(11):
        communities.answer_post(actor=bob, question=q2, body="Any USB headset works.")
    with at(12):
        communities.answer_post(actor=erin, question=q1, body="Use the HDMI adapter.")
    with at(17):
        post = feeds.post_create(actor=alice, wall_type="user", wall_key="alice", body="Thanks to the desk!")
        feeds.like_add(actor=erin, post_id=post.pk)
    rollups.rollups_refresh(first=DAY - timedelta(days=1), last=DAY + timedelta(days=1))
    return {"desk": desk, "network": network, "tickets": (t1, t2, t3)}


def test_figures_match_hand_computed_values(dataset):
    f = dashboard.figures(dashboard.selection_parse(MARCH))
    assert f.tickets_created == 3
    assert f.tickets_resolved == 2
    assert f.resolution_sla == 100.0 and f.response_sla == 100.0
    assert f.mean_response_hours == 0.8  # (60 + 30) / 2 minutes = 0.75 h, shown to one decimal
    assert f.mean_resolve_hours == 2.5   # (180 + 120) / 2 minutes
    assert f.first_contact_rate == 50.0  # t1 only: one staff reply, resolved once
    assert f.reopen_rate == 0.0
    assert f.satisfaction_avg == 3.5 and f.satisfaction_share == 50.0
    assert f.social_ticket_share == 50.0  # t2 has erin as a follower
    assert f.collaboration_share == 0.0   # only bob worked on each
    # Deflections: one person and search saved a ticket; erin logged one anyway within the hour.
    assert f.deflections_saved == 1 and f.article_views == 3
    assert f.saved_cost == 25.0
    assert f.questions == 2 and f.community_share == 50.0 and f.first_answer_hours == 1.5
    # Active: alice (post, question), erin (follow, like, question, answer), bob (answer); five people.
    assert f.active_people == 3 and f.people == 5 and f.active_share == 60.0
    assert f.backlog_total == 1 and sum(f.backlog.values()) == 1  # t3 is still open


def test_team_filter_and_date_range(dataset):
    desk = dashboard.figures(dashboard.selection_parse({**MARCH, "team": str(dataset["desk"].pk)}))
    assert desk.tickets_created == 2 and desk.tickets_resolved == 2 and desk.ratings == 2
    assert desk.active_people == 1 and desk.people == 2 and desk.active_share == 50.0  # bob of bob and carol
    network = dashboard.figures(dashboard.selection_parse({**MARCH, "team": str(dataset["network"].pk)}))
    assert network.tickets_created == 1 and network.tickets_resolved == 0 and network.resolution_sla is None
    before = dashboard.figures(dashboard.selection_parse({"from": "2026-02-01", "to": "2026-03-01"}))
    assert before.tickets_created == 0 and before.active_people == 0 and before.deflections_saved == 0


def test_maturity_levels_follow_the_model(dataset, carol):
    selection = dashboard.selection_parse(MARCH)
    without = dashboard.figures(selection)
    assert without.maturity == 0 and without.maturity_name == "Not on the scale yet"
    assert [c.met for c in without.criteria if c.key == "plan"] == [False]
    with at(8, day=DAY - timedelta(days=1)):
        plan(carol)
    f = dashboard.figures(selection)
    met = {c.key: c.met for c in f.criteria}
    assert met == {"plan": True, "satisfaction": True, "response_sla": True, "policies": True,
                   "social_tickets": True, "collaboration": True, "active": True,
                   "community_answers": True, "first_answer": True, "recognition": False, "ideas_done": True}
    assert f.maturity == 3 and f.maturity_name == "Embedded"
    figures = {c.key: (c.figure, c.target) for c in f.criteria}
    assert figures["satisfaction"] == ("3.5 / 5", "≥ 3 / 5")
    assert figures["first_answer"] == ("1.5 h", "≤ 2 h")
    with at(8, day=DAY - timedelta(days=1)):
        plan(carol, satisfaction_target=Decimal("4.0"))
    assert dashboard.figures(selection).maturity == 1  # satisfaction 3.5 misses the new target: level 2 not reached


def test_an_outbound_channel_without_policy_keeps_level_two_out_of_reach(dataset, carol, dave):
    from policies import services as policies

    with at(8, day=DAY - timedelta(days=1)):
        plan(carol)
    policies.channel_create(actor=dave, name="Status page", kind="rss", audience="public")
    f = dashboard.figures(dashboard.selection_parse(MARCH))
    criterion = next(c for c in f.criteria if c.key == "policies")
    assert not criterion.met and criterion.figure == "0 of 1 channels governed"
    assert f.maturity == 1


def test_the_page_shows_the_selection_and_drills_down(dataset, carol):
    client = signed_in(carol)
    html = client.get("/manage/", MARCH).content.decode()
    assert "Tickets saved by knowledge" in html and "Maturity level 0: Not on the scale yet" in html
    assert 'href="/manage/figures/deflections_saved/?from=2026-03-01&amp;to=2026-03-31"' in html
    saved = client.get("/manage/figures/deflections_saved/", MARCH).content.decode()
    assert "“vpn”" in saved and "“printer”" not in saved
    views = client.get("/manage/figures/article_views/", MARCH).content.decode()
    assert views.count("“vpn”") == 2 and "logged a ticket within the hour" in views
    t1, t2, t3 = dataset["tickets"]
    fcr = client.get("/manage/figures/first_contact/", MARCH).content.decode()
    assert t1.number in fcr and t2.number not in fcr
    desk = client.get("/manage/figures/tickets_created/", {**MARCH, "team": dataset["desk"].pk}).content.decode()
    assert t1.number in desk and t3.number not in desk
    assert client.get("/manage/figures/no_such_figure/").status_code == 404
    listed = client.get("/manage/figures/first_contact/", {**MARCH, "format": "csv"})
    assert listed["Content-Type"].startswith("text/csv")
    lines = listed.content.decode().splitlines()
    assert lines[0].startswith("Tickets resolved at first contact,from,2026-03-01,to,2026-03-31")
    assert len(lines) == 3 and t1.number in lines[2]
    assert client.get("/manage/figures/first_contact/", {"from": "x", "format": "csv"}).status_code == 400


def test_csv_has_the_same_selection(dataset, carol):
    response = signed_in(carol).get("/manage/dashboard.csv", {**MARCH, "team": dataset["desk"].pk})
    assert response["Content-Type"].startswith("text/csv")
    assert "service-desk-dashboard-2026-03-01-2026-03-31.csv" in response["Content-Disposition"]
    text = response.content.decode()
    assert "from,2026-03-01,to,2026-03-31,team,Service Desk" in text
    assert "Tickets logged,2" in text and "Average satisfaction (/ 5),3.5" in text
    assert "day starting,Active people,Social actions,Tickets saved by knowledge,Tickets resolved" in text
    assert "2026-03-02,1," in text


@pytest.mark.parametrize("params, field", [
    ({"from": "yesterday"}, "from"), ({"from": "2026-03-05", "to": "2026-03-01"}, "from"),
    ({"from": "2020-01-01", "to": "2026-03-01"}, "from"), ({"team": "999999"}, "team"), ({"team": "x"}, "team"),
])
def test_bad_filters_answer_400(carol, params, field):
    client = signed_in(carol)
    page = client.get("/manage/", params)
    assert page.status_code == 400 and "Check the dashboard filters." in page.content.decode()
    response = client.get("/manage/dashboard.csv", params)
    assert response.status_code == 400 and field in response.json()["errors"]


def test_only_managers_see_the_dashboard_and_write_the_plan(alice, bob, carol):
    for user in (alice, bob):
        client = signed_in(user)
        for url in ("/manage/", "/manage/dashboard.csv", "/manage/figures/tickets_resolved/", "/manage/maturity-plan/"):
            assert client.get(url).status_code == 403, url
        assert client.post("/manage/maturity-plan/", {"summary": "x"}).status_code == 403
        with pytest.raises(ApplicationError) as refused:
            plan(user)
        assert refused.value.status == 403
    assert Client().get("/manage/figures/tickets_resolved/").status_code == 302


def test_plan_page_saves_and_validates(carol):
    client = signed_in(carol)
    bad = client.post("/manage/maturity-plan/", {"summary": "", "satisfaction_target": "7", "response_sla_target": "90",
                                                 "active_share_target": "20", "social_ticket_target": "10",
                                                 "collaboration_target": "5", "community_answer_target": "30",
                                                 "first_answer_hours_target": "24", "ideas_done_target": "1"})
    assert bad.status_code == 400 and 'aria-invalid="true"' in bad.content.decode()
    good = client.post("/manage/maturity-plan/", {"summary": "Pilot <script>x</script> communities", "satisfaction_target": "4",
                                                  "response_sla_target": "90", "active_share_target": "20",
                                                  "social_ticket_target": "10", "collaboration_target": "5",
                                                  "community_answer_target": "30", "first_answer_hours_target": "24",
                                                  "ideas_done_target": "1"})
    assert good.status_code == 302
    page = client.get("/manage/maturity-plan/").content.decode()
    assert "Pilot" in page and "<script>x" not in page
    assert "Maturity level 1: Exploration" in client.get("/manage/").content.decode()


def test_the_periodic_task_refreshes_recent_days_and_records_the_week(alice, bob, carol):
    ticket = tickets.ticket_create(actor=alice, kind="incident", title="Laptop", impact=3, urgency=3)
    tickets.ticket_update(actor=bob, ticket=ticket, assignee=bob, status="resolved")
    assert dashboard.figures(dashboard.selection_parse({})).tickets_resolved == 0  # not rolled up yet
    tasks.dashboard_rollups_refresh()
    f = dashboard.figures(dashboard.selection_parse({}))
    assert f.tickets_resolved == 1 and f.refreshed_at is not None
    snapshot = MaturitySnapshot.objects.get()
    assert snapshot.level == 0 and {c["key"] for c in snapshot.criteria} >= {"plan", "policies", "ideas_done"}
    tasks.dashboard_rollups_refresh()  # idempotent: the days are replaced, not added to
    assert dashboard.figures(dashboard.selection_parse({})).tickets_resolved == 1
    assert MaturitySnapshot.objects.count() == 1


def test_page_query_budget_does_not_grow(dataset, carol, make_user, django_assert_max_num_queries):
    client = signed_in(carol)
    client.get("/manage/", MARCH)
    with django_assert_max_num_queries(18) as small:
        assert client.get("/manage/", MARCH).status_code == 200
    for i in range(6):
        person = make_user(f"u{i}")
        with at(9, day=DAY + timedelta(days=1)):
            ticket = tickets.ticket_create(actor=person, kind="incident", title=f"Issue {i}", impact=3, urgency=3)
            tickets.ticket_update(actor=carol, ticket=ticket, assignee=carol, status="resolved")
            feeds.post_create(actor=person, wall_type="user", wall_key=person.username, body="hello")
    rollups.rollups_refresh(first=DAY, last=DAY + timedelta(days=1))
    # Carol now has unread notifications; opening a page marks those about it read (one UPDATE).
    with django_assert_max_num_queries(len(small.captured_queries) + 1):
        assert client.get("/manage/", MARCH).status_code == 200
    with django_assert_max_num_queries(6):
        assert client.get("/manage/figures/tickets_resolved/", MARCH).status_code == 200


def test_every_figure_drills_down_within_a_fixed_budget(dataset, carol, django_assert_max_num_queries):
    from gamification import drilldown

    client = signed_in(carol)
    keys = list(drilldown._registry(dashboard.selection_parse(MARCH)))
    linked = {row["drill"] for row in dashboard.rows(dashboard.figures(dashboard.selection_parse(MARCH)),
                                                     dashboard.SERVICE_ROWS + dashboard.VALUE_ROWS) if row["drill"]}
    assert linked <= set(keys)
    for key in keys:
        with django_assert_max_num_queries(6):
            response = client.get(f"/manage/figures/{key}/", MARCH)
        assert response.status_code == 200, key
    questions = client.get("/manage/figures/community_answered/", MARCH).content.decode()
    assert "Second screen at home?" in questions and "Headset for calls?" not in questions
    assert "first answer after 2.0 h by the community" in questions


def test_the_dashboard_shows_which_outside_channels_people_chose(dataset, carol, dave):
    from policies import services as policies

    desk_on_x = policies.channel_create(actor=dave, name="Desk on X", kind="webhook", audience="public",
                                        config={"url": "https://hooks.example.invalid/x"}, offered_to_requesters=True)
    policies.channel_create(actor=dave, name="Staff chat", kind="webhook", audience="internal",
                            config={"url": "https://hooks.example.invalid/chat"})  # not offered: not listed
    network = dataset["network"]
    on_network = account_services.user_create(username="net1", password=None, team=network)
    for person in (on_network, account_services.user_create(username="elsewhere", password=None)):
        policies.external_channel_set(actor=person, channel_id=desk_on_x.pk)
    client = signed_in(carol)
    html = client.get("/manage/", MARCH).content.decode()
    assert 'id="external-channels"' in html and "Desk on X" in html and "Staff chat" not in html
    assert f'id="channel-count-{desk_on_x.pk}"' in html
    everyone = dashboard.figures(dashboard.selection_parse(MARCH))
    assert [(c["name"], c["people"]) for c in everyone.external_channels] == [("Desk on X", 2)]
    assert everyone.people_without_channel == everyone.people - 2
    network_only = dashboard.figures(dashboard.selection_parse({**MARCH, "team": str(network.pk)}))
    assert [(c["name"], c["people"]) for c in network_only.external_channels] == [("Desk on X", 1)]
    text = client.get("/manage/dashboard.csv", MARCH).content.decode()
    assert "people hearing about their tickets on Desk on X,2" in text
