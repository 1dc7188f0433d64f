"""@mention autocomplete suggests only people who may see the place the text goes to."""
from communities import services as communities
from tickets import services as tickets


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [person["username"] for person in response.json()["results"]]


def test_a_private_ticket_suggests_only_people_who_may_read_it(api_as, alice, erin, bob, make_user):
    make_user("eve", display_name="Eve Ellis")
    private = tickets.ticket_create(actor=alice, kind="incident", title="My laptop")
    public = tickets.ticket_create(actor=alice, kind="incident", title="Printer", visibility="public")
    client = api_as(alice)
    assert names(client.get("/api/v1/mentions/", {"q": "e", "place": f"ticket:{private.pk}"})) == []
    assert names(client.get("/api/v1/mentions/", {"q": "b", "place": f"ticket:{private.pk}"})) == ["bob"]
    assert names(client.get("/api/v1/mentions/", {"q": "e", "place": f"ticket:{public.pk}"})) == ["erin", "eve"]
    assert names(client.get("/api/v1/mentions/", {"q": "Walsh", "place": f"ticket:{public.pk}"})) == ["erin"]
    assert names(client.get("/api/v1/mentions/", {"q": "al", "place": f"ticket:{public.pk}"})) == [], "never oneself"


def test_a_private_community_suggests_members_only(api_as, alice, erin, make_user):
    community = communities.community_create(actor=erin, name="Finance", slug="finance", visibility="private")
    make_user("ella", display_name="Ella Outsider")
    assert names(api_as(erin).get("/api/v1/mentions/", {"q": "e", "place": "community:finance"})) == []
    assert community.is_private


def test_a_place_out_of_sight_is_404_and_bad_input_400(api_as, alice, erin):
    private = tickets.ticket_create(actor=alice, kind="incident", title="My laptop")
    client = api_as(erin)
    assert client.get("/api/v1/mentions/", {"q": "a", "place": f"ticket:{private.pk}"}).status_code == 404
    assert client.get("/api/v1/mentions/", {"q": "a", "place": "community:finance"}).status_code == 404
    for bad in ({"q": "", "place": "user:alice"}, {"q": "a"}, {"q": "a", "place": "nonsense"}, {"q": "<x>", "place": "user:alice"}):
        response = client.get("/api/v1/mentions/", bad)
        assert response.status_code == 400 and "message" in response.json()
