"""Every way of following copies the followed stream's recent history into the feed the same way
as a manual follow: only what the person may see, nothing they muted."""
import pytest

from accounts.models import Role
from communities import services as communities
from feeds import selectors, services
from feeds.models import Follow, TimelineEntry
from tickets import services as tickets

# The backfill runs when the follow's transaction commits: these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)


def summaries(user) -> list[str]:
    page, _ = selectors.feed_page(user=user, limit=100)
    return [a.summary for a in page]


def mentions(user, text: str) -> bool:
    return any(text in s for s in summaries(user))


@pytest.fixture
def incident_with_history(alice, bob):
    """A public incident with a public reply and an internal note written before anyone else follows it."""
    ticket = tickets.ticket_create(actor=alice, kind="incident", title="VPN drops", impact=2, urgency=2, visibility="public")
    tickets.comment_add(actor=bob, ticket=ticket, body="Earlier public update")
    tickets.comment_add(actor=bob, ticket=ticket, body="Earlier secret note", internal=True)
    return ticket


def test_me_too_brings_the_public_history_but_never_internal_notes(incident_with_history, erin):
    assert summaries(erin) == []
    tickets.ticket_me_too(actor=erin, ticket=incident_with_history)
    assert Follow.objects.filter(user=erin, target_type="ticket", reason=Follow.Reason.ME_TOO).exists()
    assert mentions(erin, "Earlier public update")
    assert mentions(erin, "logged " + incident_with_history.number)
    assert not mentions(erin, "internal note")
    assert not mentions(erin, "secret")


def test_commenting_brings_the_history_an_end_user_may_see(incident_with_history, erin):
    tickets.comment_add(actor=erin, ticket=incident_with_history, body="Same here")
    assert Follow.objects.filter(user=erin, target_type="ticket", reason=Follow.Reason.COMMENTER).exists()
    assert mentions(erin, "Earlier public update")
    assert not mentions(erin, "internal note")


def test_becoming_assignee_brings_the_history_with_internal_notes(incident_with_history, bob, make_user):
    agent = make_user("frank", role=Role.AGENT, display_name="Frank Agent")
    assert summaries(agent) == []
    tickets.ticket_update(actor=bob, ticket=incident_with_history, assignee=agent)
    assert Follow.objects.filter(user=agent, target_type="ticket", reason=Follow.Reason.ASSIGNEE).exists()
    assert mentions(agent, "Earlier public update")
    assert mentions(agent, "added an internal note to")


def test_an_agent_commenting_gets_internal_notes_an_end_user_commenting_does_not(incident_with_history, erin, make_user):
    agent = make_user("frank", role=Role.AGENT, display_name="Frank Agent")
    tickets.comment_add(actor=agent, ticket=incident_with_history, body="Looking")
    tickets.comment_add(actor=erin, ticket=incident_with_history, body="Me as well")
    assert mentions(agent, "added an internal note to")
    assert not mentions(erin, "added an internal note to")


def test_the_requester_follows_a_new_ticket_and_its_feed_starts_with_it(bob, alice):
    ticket = tickets.ticket_create(actor=bob, requester=alice, kind="incident", title="Laptop dead", impact=2, urgency=2)
    assert Follow.objects.filter(user=alice, target_key=str(ticket.pk), reason=Follow.Reason.REQUESTER).exists()
    assert mentions(alice, f"logged {ticket.number}")


def test_every_follow_path_gives_the_same_history_as_a_manual_follow(incident_with_history, erin, make_user):
    """A manual follow and "me too" give two end users identical feeds of the ticket."""
    other = make_user("gina", display_name="Gina End")
    tickets.ticket_follow(actor=other, ticket=incident_with_history)
    tickets.ticket_me_too(actor=erin, ticket=incident_with_history)
    about = f"ticket:{incident_with_history.pk}"
    manual = [a.pk for a in selectors.feed_page(user=other, about=about, limit=100)[0]]
    automatic = [a.pk for a in selectors.feed_page(user=erin, about=about, limit=100)[0]]
    # Both see the opening, the public reply and erin's "me too"; neither sees the internal note.
    assert len(manual) == 3 and automatic == manual


def test_a_muted_ticket_stays_out_of_the_feed_when_commenting_follows_it(incident_with_history, erin):
    services.mute_set(actor=erin, target_type="ticket", key=incident_with_history.pk)
    tickets.comment_add(actor=erin, ticket=incident_with_history, body="Muted but answering")
    assert Follow.objects.filter(user=erin, target_type="ticket").exists()
    assert not TimelineEntry.objects.filter(user=erin, activity__object_key=str(incident_with_history.pk)).exists()


def test_joining_a_private_community_brings_its_members_only_history(erin, alice):
    from communities.models import JoinRequest

    community = communities.community_create(actor=erin, name="Finance power users", slug="finance", visibility="private")
    communities.question_ask(actor=erin, community=community, title="Pivot tables across sheets?")
    assert communities.community_join(actor=alice, community=community) == "pending"
    assert not mentions(alice, "Pivot tables")
    request = JoinRequest.objects.get(community=community, user=alice)
    communities.join_request_decide(actor=erin, community=community, request_id=request.pk, approve=True)
    assert mentions(alice, "Pivot tables across sheets?")


def test_a_declined_join_request_brings_no_history(erin, alice):
    from communities.models import JoinRequest

    community = communities.community_create(actor=erin, name="Finance power users", slug="finance", visibility="private")
    communities.question_ask(actor=erin, community=community, title="Pivot tables across sheets?")
    communities.community_join(actor=alice, community=community)
    request = JoinRequest.objects.get(community=community, user=alice)
    communities.join_request_decide(actor=erin, community=community, request_id=request.pk, approve=False)
    assert not Follow.objects.filter(user=alice, target_type="community").exists()
    assert not mentions(alice, "Pivot tables")


def test_joining_an_open_community_brings_its_history(erin, alice):
    community = communities.community_create(actor=erin, name="Excel wizards", slug="excel")
    communities.question_ask(actor=erin, community=community, title="VLOOKUP or XLOOKUP?")
    communities.community_join(actor=alice, community=community)
    assert mentions(alice, "VLOOKUP or XLOOKUP?")


def test_backfill_skips_a_follow_that_is_gone_by_commit_time(incident_with_history, erin):
    from django.db import transaction

    with transaction.atomic():
        tickets.ticket_me_too(actor=erin, ticket=incident_with_history)
        Follow.objects.filter(user=erin, target_type="ticket").delete()
    assert not mentions(erin, "Earlier public update")
