"""The requester's external channel, chosen through the notification-preferences API too."""
import pytest

from policies import services
from policies.models import ExternalChannelPreference

pytestmark = pytest.mark.django_db

URL = "/api/v1/me/notification-preferences/"


@pytest.fixture
def team_mail(make_channel):
    return make_channel(name="Team e-mail", kind="email", audience="private_group", config={"to": ["t@example.com"]},
                        offered_to_requesters=True)


@pytest.fixture
def partner_hook(make_channel):
    return make_channel(name="Partner hook", kind="webhook", audience="private_group")


def test_preferences_list_the_offered_channels_and_the_choice(api_as, alice, team_mail, partner_hook):
    body = api_as(alice).get(URL).json()
    assert body["external_channel"] is None
    assert body["external_channels"] == [{"id": team_mail.pk, "name": "Team e-mail"}]
    assert "kinds" in body and "time_zone" in body, "the rest of the preferences are unchanged"


def test_a_person_chooses_and_clears_their_external_channel(api_as, alice, team_mail):
    client = api_as(alice)
    response = client.put(URL, {"external_channel": team_mail.pk}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["external_channel"] == team_mail.pk
    assert ExternalChannelPreference.objects.get(user=alice).channel == team_mail
    kept = client.put(URL, {"email_digest": True}, format="json").json()
    assert kept["external_channel"] == team_mail.pk, "leaving it out keeps the choice"
    cleared = client.put(URL, {"external_channel": None}, format="json").json()
    assert cleared["external_channel"] is None
    assert ExternalChannelPreference.objects.get(user=alice).channel is None


@pytest.mark.parametrize("value", ["partner", 999999, "abc", 0])
def test_a_channel_not_offered_to_requesters_is_400_and_changes_nothing(api_as, alice, team_mail, partner_hook, value):
    client = api_as(alice)
    client.put(URL, {"external_channel": team_mail.pk}, format="json")
    choice = partner_hook.pk if value == "partner" else value
    response = client.put(URL, {"external_channel": choice, "email_digest": True}, format="json")
    assert response.status_code == 400, response.content
    assert "external_channel" in response.json()["errors"]
    alice.refresh_from_db()
    assert ExternalChannelPreference.objects.get(user=alice).channel == team_mail
    assert alice.email_digest is False, "nothing else in the request was saved either"


def test_a_bad_preference_elsewhere_leaves_the_channel_unchanged(api_as, alice, team_mail):
    response = api_as(alice).put(URL, {"external_channel": team_mail.pk, "time_zone": "Mars/Olympus"}, format="json")
    assert response.status_code == 400
    assert not ExternalChannelPreference.objects.filter(user=alice, channel=team_mail).exists()


def test_a_channel_no_longer_offered_or_inactive_shows_as_none(api_as, alice, dave, team_mail):
    client = api_as(alice)
    client.put(URL, {"external_channel": team_mail.pk}, format="json")
    services.channel_update(actor=dave, channel=team_mail, active=False)
    body = client.get(URL).json()
    assert body["external_channel"] is None and body["external_channels"] == []
    services.channel_update(actor=dave, channel=team_mail, active=True)
    assert client.get(URL).json()["external_channel"] == team_mail.pk
    services.channel_update(actor=dave, channel=team_mail, offered_to_requesters=False)
    assert client.get(URL).json()["external_channel"] is None
    assert client.put(URL, {"external_channel": team_mail.pk}, format="json").status_code == 400


def test_the_choice_made_through_the_api_is_used_when_a_ticket_closes(api_as, alice, bob, dave, team_mail, make_policy):
    from tickets.services import ticket_create, ticket_update

    make_policy(team_mail, blocked_terms=[], allowed_events=["ticket_closed"])
    api_as(alice).put(URL, {"external_channel": team_mail.pk}, format="json")
    ticket = ticket_create(actor=alice, kind="request", title="New keyboard")
    ticket_update(actor=bob, ticket=ticket, status="resolved")
    ticket_update(actor=bob, ticket=ticket, status="closed")
    post = team_mail.posts.get(event="ticket_closed")
    assert post.recipient == alice.email and post.status == "queued"
    resolved = team_mail.posts.get(event="ticket_status_changed")
    assert resolved.status == "blocked" and resolved.reasons == ["No policy on this channel covers ticket status changed."]


def test_anonymous_callers_cannot_read_or_set_it(api):
    assert api.get(URL).status_code in (401, 403)
    assert api.put(URL, {"external_channel": 1}, format="json").status_code in (401, 403)
