"""The agent's ticket page: the sidebar's order, triage of service and type, links to problems,
merging duplicates and canned responses, each with its refusals."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import services as account_services
from accounts.models import Role, User
from tickets import selectors, services
from tickets.models import Comment, Kind, MeToo, Status, TicketChange, Visibility
from tickets.services import ticket_follows

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_for(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


def incident(requester, title="Printer on floor 3 jams", **extra):
    return services.ticket_create(actor=requester, kind=Kind.INCIDENT, title=title, description="It jams.", **extra)


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


# --- the page ---------------------------------------------------------------------------------------


def test_the_agents_sidebar_starts_with_the_requester_then_triage_links_and_followers(client_for, alice, bob):
    ticket = incident(alice)
    page = client_for(bob).get(ticket.get_absolute_url()).content.decode()
    sidebar = page.split('class="stack stack-lg ticket-sidebar"', 1)[1]
    order = [sidebar.index(f'id="{name}"') for name in ("social-context", "agent-controls", "links", "social-actions")]
    assert order == sorted(order)
    header = page.split('id="ticket-state"', 1)[1].split("</dl>", 1)[0]
    assert "Respond" in header and "Resolve" in header and "Nobody yet" in header
    assert 'id="update_service"' in page and 'id="update_kind"' in page


def test_staff_are_not_offered_me_too_but_other_people_are(client_for, alice, bob, erin):
    ticket = incident(alice, visibility=Visibility.PUBLIC)
    assert 'id="me-too-button"' not in client_for(bob).get(ticket.get_absolute_url()).content.decode()
    assert 'id="me-too-button"' in client_for(erin).get(ticket.get_absolute_url()).content.decode()


def test_end_users_get_none_of_the_agent_tools(client_for, alice, bob):
    ticket = incident(alice)
    client = client_for(alice)
    page = client.get(ticket.get_absolute_url()).content.decode()
    assert 'id="links"' not in page and 'id="reply-canned"' not in page and 'id="presence"' not in page
    for name, method in (("find", "get"), ("about_requester", "get"), ("merge", "post"), ("problem_link", "post"),
                         ("problem_create", "post"), ("problem_unlink", "post")):
        response = getattr(client, method)(reverse(f"tickets:{name}", args=[ticket.pk]), {"ticket": "1", "q": "x"})
        assert response.status_code == 404, name
    assert client.get(reverse("tickets:canned")).status_code == 403


def test_triage_changes_service_and_type_with_audit_rows(client_for, alice, bob):
    vpn = services.service_create(name="VPN", owner_team=bob.team)
    ticket = incident(alice)
    response = client_for(bob).post(reverse("tickets:update", args=[ticket.pk]), {"service": vpn.pk, "kind": "request"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.service == vpn and ticket.kind == Kind.REQUEST and ticket.number.startswith("REQ-")
    fields = set(TicketChange.objects.filter(ticket=ticket).values_list("field", flat=True))
    assert {"service", "kind"} <= fields


def test_a_ticket_linked_to_a_problem_keeps_its_type_and_problems_keep_theirs(alice, bob):
    from servicedesk.errors import ApplicationError

    ticket = incident(alice)
    problem = services.problem_create_from(actor=bob, incident=ticket)
    with pytest.raises(ApplicationError):
        services.ticket_update(actor=bob, ticket=ticket, kind=Kind.REQUEST)
    with pytest.raises(ApplicationError):
        services.ticket_update(actor=bob, ticket=problem, kind=Kind.INCIDENT)


# --- problems ---------------------------------------------------------------------------------------


def test_link_an_incident_to_a_problem_by_number_from_either_side_and_unlink_it(client_for, alice, bob):
    first, second = incident(alice), incident(alice, title="Scanner jams too")
    problem = services.ticket_create(actor=bob, kind=Kind.PROBLEM, title="Paper feed firmware")
    client = client_for(bob)
    assert client.post(reverse("tickets:problem_link", args=[first.pk]), {"ticket": problem.number}).status_code == 302
    assert client.post(reverse("tickets:problem_link", args=[problem.pk]), {"ticket": str(second.pk)}).status_code == 302
    first.refresh_from_db(), second.refresh_from_db()
    assert first.problem == problem and second.problem == problem
    page = client.get(problem.get_absolute_url()).content.decode()
    assert first.number in page and second.number in page

    assert client.post(reverse("tickets:problem_unlink", args=[problem.pk]), {"incident": first.pk}).status_code == 302
    first.refresh_from_db()
    assert first.problem is None
    assert TicketChange.objects.filter(ticket=first, field="problem", old=problem.number, new="").exists()


def test_linking_refuses_what_is_not_a_problem_or_unknown_numbers_with_400(client_for, alice, bob):
    ticket, other = incident(alice), incident(alice, title="Another incident")
    client = client_for(bob)
    refused = client.post(reverse("tickets:problem_link", args=[ticket.pk]), {"ticket": other.number})
    assert refused.status_code == 400 and "not a problem" in refused.content.decode()
    assert client.post(reverse("tickets:problem_link", args=[ticket.pk]), {"ticket": "PRB-999999"}).status_code == 400
    assert client.post(reverse("tickets:problem_link", args=[ticket.pk]), {"ticket": "drop table"}).status_code == 400
    assert client.post(reverse("tickets:problem_unlink", args=[ticket.pk]), {"incident": "x"}).status_code == 400


def test_create_a_problem_from_an_incident(client_for, alice, bob):
    ticket = incident(alice, title="VPN drops every hour")
    response = client_for(bob).post(reverse("tickets:problem_create", args=[ticket.pk]), {"title": ""})
    ticket.refresh_from_db()
    problem = ticket.problem
    assert problem.kind == Kind.PROBLEM and problem.title == "VPN drops every hour"
    assert response["Location"] == problem.get_absolute_url()


def test_find_lists_problems_for_an_incident_by_words_or_number_within_budget(client_for, alice, bob):
    ticket = incident(alice)
    problem = services.ticket_create(actor=bob, kind=Kind.PROBLEM, title="Paper feed firmware")
    client = client_for(bob)
    url = reverse("tickets:find", args=[ticket.pk])
    by_words = client.get(url, {"q": "firmware", "purpose": "link"}).content.decode()
    by_number = client.get(url, {"q": problem.number, "purpose": "link"}).content.decode()
    assert problem.number in by_words and problem.number in by_number
    assert "data-pick-number" not in client.get(url, {"q": ticket.number, "purpose": "link"}).content.decode()
    # Session, user, the live cursor, ticket, the search.
    assert count_queries(client, f"{url}?q=firmware&purpose=link") <= 5


# --- merging ----------------------------------------------------------------------------------------


def test_merge_moves_the_conversation_followers_and_me_toos_and_closes_the_duplicate(client_for, alice, bob, erin, make_user):
    target = incident(alice, visibility=Visibility.PUBLIC, title="Wi-Fi down on floor 2")
    duplicate = incident(erin, visibility=Visibility.PUBLIC, title="No Wi-Fi floor 2")
    watcher = make_user()
    services.ticket_follow(actor=watcher, ticket=duplicate)
    affected = make_user()
    services.ticket_me_too(actor=affected, ticket=duplicate)
    services.comment_add(actor=erin, ticket=duplicate, body="Since 9 am.")

    response = client_for(bob).post(reverse("tickets:merge", args=[duplicate.pk]), {"ticket": target.number})
    assert response.status_code == 302 and response["Location"] == target.get_absolute_url()
    duplicate.refresh_from_db(), target.refresh_from_db()
    assert duplicate.status == Status.CLOSED and duplicate.merged_into == target
    bodies = list(Comment.objects.filter(ticket=target).values_list("body", flat=True))
    assert "Since 9 am." in bodies and any(b.startswith(f"Merged {duplicate.number}") for b in bodies)
    assert Comment.objects.filter(ticket=duplicate, body__startswith=f"Merged into {target.number}").exists()
    followers = set(ticket_follows(target).values_list("user_id", flat=True))
    assert {watcher.pk, erin.pk, affected.pk} <= followers
    assert set(MeToo.objects.filter(ticket=target).values_list("user_id", flat=True)) == {affected.pk, erin.pk}
    assert target.me_too_count == 2
    assert TicketChange.objects.filter(ticket=target, field="merged", new=duplicate.number).exists()
    assert TicketChange.objects.filter(ticket=duplicate, field="merged_into", new=target.number).exists()
    page = client_for(bob).get(target.get_absolute_url()).content.decode()
    assert "Duplicates merged here" in page and duplicate.number in page


def test_merge_is_refused_across_visibility_with_400_and_changes_nothing(client_for, alice, bob):
    public = incident(alice, visibility=Visibility.PUBLIC)
    private = incident(alice, visibility=Visibility.PRIVATE, title="Private duplicate")
    services.comment_add(actor=alice, ticket=private, body="My salary slip is attached.")
    client = client_for(bob)
    response = client.post(reverse("tickets:merge", args=[private.pk]), {"ticket": public.number})
    assert response.status_code == 400
    assert "same visibility" in response.content.decode()
    assert client.post(reverse("tickets:merge", args=[public.pk]), {"ticket": private.number}).status_code == 400
    private.refresh_from_db()
    assert private.status == Status.NEW and private.merged_into is None
    assert Comment.objects.filter(ticket=private).count() == 1


def test_merge_refuses_private_tickets_of_different_requesters_itself_and_problems(client_for, alice, bob, erin):
    mine, theirs = incident(alice), incident(erin)
    problem = services.ticket_create(actor=bob, kind=Kind.PROBLEM, title="Root cause")
    client = client_for(bob)
    assert client.post(reverse("tickets:merge", args=[mine.pk]), {"ticket": theirs.number}).status_code == 400
    assert client.post(reverse("tickets:merge", args=[mine.pk]), {"ticket": mine.number}).status_code == 400
    assert client.post(reverse("tickets:merge", args=[mine.pk]), {"ticket": problem.number}).status_code == 400
    assert client.post(reverse("tickets:merge", args=[mine.pk]), {"ticket": ""}).status_code == 400


def test_merge_api_refuses_across_visibility_with_the_error_shape(api_as, alice, bob):
    public = incident(alice, visibility=Visibility.PUBLIC)
    private = incident(alice, visibility=Visibility.PRIVATE)
    response = api_as(bob).post(f"/api/v1/tickets/{private.pk}/merge/", {"into": public.pk}, format="json")
    assert response.status_code == 400 and "message" in response.json() and "into" in response.json()["errors"]
    assert api_as(alice).post(f"/api/v1/tickets/{private.pk}/merge/", {"into": public.pk}, format="json").status_code == 403
    same = incident(alice, visibility=Visibility.PUBLIC)
    assert api_as(bob).post(f"/api/v1/tickets/{same.pk}/merge/", {"into": public.pk}, format="json").status_code == 200


# --- canned responses -------------------------------------------------------------------------------


def test_canned_responses_personal_and_shared_with_placeholders(client_for, alice, bob, make_user):
    teammate = make_user(role=Role.AGENT, team=bob.team)
    stranger = make_user(role=Role.AGENT, team=account_services.team_get_or_create(name="Network"))
    client = client_for(bob)
    client.post(reverse("tickets:canned"), {"title": "Greeting", "body": "Hi {requester.first_name}, about {ticket.number}: {nope.x}"})
    client.post(reverse("tickets:canned"), {"title": "Shared fix", "body": "Restart it.", "shared": "on"})
    mine = selectors.canned_responses_for(user=bob)
    assert [r.title for r in mine] == ["Greeting", "Shared fix"]
    assert [r.title for r in selectors.canned_responses_for(user=teammate)] == ["Shared fix"]
    assert selectors.canned_responses_for(user=stranger) == []
    assert selectors.canned_responses_for(user=alice) == []

    ticket = incident(alice)
    greeting = mine[0]
    data = client.get(reverse("tickets:canned_text", args=[ticket.pk, greeting.pk])).json()
    assert data["text"] == f"Hi Alice, about {ticket.number}: {{nope.x}}"
    client.force_login(stranger)
    assert client.get(reverse("tickets:canned_text", args=[ticket.pk, greeting.pk])).status_code == 404
    assert client.post(reverse("tickets:canned_delete", args=[greeting.pk])).status_code == 404


def test_canned_response_form_refuses_bad_input_with_400(client_for, bob):
    response = client_for(bob).post(reverse("tickets:canned"), {"title": "", "body": "", "set_priority": "9"})
    assert response.status_code == 400 and "Give it a title." in response.content.decode()


def test_a_reply_sent_with_a_canned_response_applies_its_status_and_priority(client_for, alice, bob):
    response = services.canned_response_create(actor=bob, title="Waiting", body="Can you send a photo?",
                                               set_status=Status.PENDING, set_priority=2)
    ticket = incident(alice)
    client = client_for(bob)
    sent = client.post(reverse("tickets:comment", args=[ticket.pk]),
                       {"body": "Can you send a photo?", "reply_as": "public", "canned": response.pk})
    assert sent.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING and ticket.priority == 2
    # Someone else's canned response id is ignored: the reply goes, nothing else changes.
    other = services.canned_response_create(actor=User.objects.create(username="x", role=Role.AGENT),
                                            title="Close", body="Done.", set_status=Status.RESOLVED)
    client.post(reverse("tickets:comment", args=[ticket.pk]), {"body": "More", "reply_as": "public", "canned": other.pk})
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING


# --- about the requester ------------------------------------------------------------------------------


def test_about_the_requester_shows_only_communities_the_agent_may_see_and_more_on_demand(client_for, alice, bob, make_user):
    from communities import services as communities
    from gamification import selectors as gamification

    owner = make_user()
    open_one = communities.community_create(actor=owner, name="Printers", visibility="open")
    secret = communities.community_create(actor=owner, name="Board room", visibility="private")
    communities.community_join(actor=alice, community=open_one)
    from communities.models import Membership

    Membership.objects.create(community=secret, user=alice)
    article = communities.article_create(actor=owner, title="Clear a paper jam", body="Open tray 2.", community=open_one)
    communities.article_helpful(actor=alice, article=article)
    ticket = incident(alice)
    services.ticket_update(actor=bob, ticket=ticket, status=Status.RESOLVED)
    services.rating_create(actor=alice, ticket=ticket, score=4, comment="Quick")

    about = selectors.social_context(viewer=bob, person=alice)
    assert [c.name for c in about.communities] == ["Printers"]
    assert about.extra["influence"] == gamification.influence_of(alice)
    client = client_for(bob)
    page = client.get(ticket.get_absolute_url()).content.decode()
    card = page.split('id="social-context"', 1)[1].split("</section>", 1)[0]
    assert "Printers" in card and "Board room" not in card and "Influence" in card

    url = reverse("tickets:about_requester", args=[ticket.pk])
    more = client.get(url).content.decode()
    assert "Clear a paper jam" in more and "found it helpful" in more and "4/5" in more
    # Session, user, the live cursor, ticket, ratings, posts, knowledge used and its titles.
    assert count_queries(client, url) <= 9  # includes the read-on-visit check of notifications


def test_the_header_state_follows_live_changes_for_agents_only(client_for, alice, bob):
    ticket = incident(alice)
    services.ticket_update(actor=bob, ticket=ticket, assignee=bob)
    url = reverse("tickets:conversation", args=[ticket.pk])
    agent = client_for(bob).get(url, HTTP_HX_REQUEST="true").content.decode()
    state = agent.split('id="ticket-state"', 1)[1].split("</dl>", 1)[0]
    assert 'hx-swap-oob="true"' in state and "Bob Okafor" in state
    assert 'id="ticket-state"' not in client_for(alice).get(url, HTTP_HX_REQUEST="true").content.decode()
