import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.services import api_token_create
from feeds.models import Follow, Notification, TimelineEntry
from tickets import services as tickets

# Fan-out runs from the outbox when the writing transaction commits: these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)


def public_ticket(actor, title="VPN drops"):
    return tickets.ticket_create(actor=actor, kind="incident", title=title, impact=2, urgency=2, visibility="public")


def feed(client, query=""):
    response = client.get(f"/api/v1/feed/{query}")
    assert response.status_code == 200, response.json()
    return response.json()


def test_follow_anything_visible_and_unfollow(api_as, alice, erin, bob, vpn_service):
    client = api_as(erin)
    ticket = public_ticket(alice)
    private = tickets.ticket_create(actor=alice, kind="incident", title="Payroll", impact=2, urgency=2)
    for body in ({"type": "ticket", "key": ticket.pk}, {"type": "user", "key": "bob"},
                 {"type": "service", "key": vpn_service.pk}, {"type": "tag", "key": "#Outlook"}):
        response = client.post("/api/v1/follows/", body, format="json")
        assert response.status_code == 201, (body, response.json())
        assert set(response.json()) >= {"id", "type", "key"}
    assert client.post("/api/v1/follows/", {"type": "tag", "key": "outlook"}, format="json").status_code == 200
    listed = client.get("/api/v1/follows/").json()["results"]
    assert {(f["type"], f["key"]) for f in listed} == {("ticket", str(ticket.pk)), ("user", "bob"), ("service", str(vpn_service.pk)), ("tag", "outlook")}
    assert client.post("/api/v1/follows/", {"type": "ticket", "key": private.pk}, format="json").status_code == 404
    assert client.post("/api/v1/follows/", {"type": "user", "key": "nobody"}, format="json").status_code == 404
    assert client.post("/api/v1/follows/", {"type": "planet", "key": "x"}, format="json").status_code == 400
    assert client.post("/api/v1/follows/", {"type": "tag", "key": "not a tag!"}, format="json").status_code == 404
    follow_id = listed[0]["id"]
    assert api_as(alice).delete(f"/api/v1/follows/{follow_id}/").status_code == 404, "not alice's follow"
    assert client.delete(f"/api/v1/follows/{follow_id}/").status_code == 204
    assert client.delete(f"/api/v1/follows/{follow_id}/").status_code == 404


def test_feed_shows_followed_activity_but_never_internal_notes(api_as, alice, erin, bob):
    ticket = public_ticket(alice)
    client = api_as(erin)
    client.post("/api/v1/follows/", {"type": "ticket", "key": ticket.pk}, format="json")
    tickets.comment_add(actor=bob, ticket=ticket, body="hunter2 is the admin password", internal=True)
    tickets.comment_add(actor=bob, ticket=ticket, body="Please reconnect now")
    items = feed(client)["results"]
    assert items and all("hunter2" not in item["summary"] for item in items)
    assert any("Please reconnect now" in item["summary"] for item in items)
    first = items[0]
    assert set(first) >= {"id", "verb", "actor", "object", "target", "summary", "created_at"}
    assert [i["id"] for i in items] == sorted((i["id"] for i in items), reverse=True)
    agent_items = feed(api_as(bob))["results"]
    assert any("hunter2" in item["summary"] for item in agent_items), "agents following see internal notes"


def test_feed_context_filter_and_cursor(api_as, alice, erin, bob):
    client = api_as(erin)
    ticket = public_ticket(alice)
    client.post("/api/v1/follows/", {"type": "ticket", "key": ticket.pk}, format="json")
    client.post("/api/v1/follows/", {"type": "user", "key": "bob"}, format="json")
    for i in range(25):
        tickets.comment_add(actor=bob, ticket=ticket, body=f"Update {i}")
    from feeds import services

    services.post_create(actor=bob, wall_type="user", wall_key="bob", body="Lunch talk on Friday #learning")
    people = feed(client, "?context=people")["results"]
    assert [i["verb"] for i in people] == ["posted"]
    page1 = feed(client, "?context=tickets")
    assert len(page1["results"]) == 20 and page1["next"]
    page2 = client.get(page1["next"]).json()
    ids = [i["id"] for i in page1["results"] + page2["results"]]
    assert len(ids) == len(set(ids)) and ids == sorted(ids, reverse=True)
    assert all(i["object"]["type"] == "ticket" for i in page1["results"] + page2["results"])
    assert client.get("/api/v1/feed/?context=weather").status_code == 400
    assert client.get("/api/v1/feed/?before=abc").status_code == 400


def test_feed_query_count_does_not_grow_with_follows(api, alice, erin, bob, make_user):
    _, token = api_token_create(user=erin)
    auth = {"HTTP_AUTHORIZATION": f"Token {token}"}
    from feeds import services

    def follows(n):
        for i in range(n):
            person = make_user(f"person{Follow.objects.count()}_{i}")
            services.follow_create(actor=erin, target_type="user", key=person.username)
            services.post_create(actor=person, wall_type="user", wall_key=person.username, body=f"Hello {i}")

    follows(5)
    with CaptureQueriesContext(connection) as few:
        assert api.get("/api/v1/feed/", **auth).status_code == 200
    follows(45)
    with CaptureQueriesContext(connection) as many:
        assert len(api.get("/api/v1/feed/", **auth).json()["results"]) == 20
    assert len(many.captured_queries) == len(few.captured_queries) <= 3


def test_posts_mentions_tags_likes(api_as, alice, erin, bob):
    client = api_as(alice)
    response = client.post("/api/v1/posts/", {"body": "Hi @erin and @nobody, see #VPN <script>x</script>", "wall": {"type": "user", "key": "alice"}}, format="json")
    assert response.status_code == 201, response.json()
    post = response.json()
    assert post["tags"] == ["vpn"] and "<script>" not in post["body_html"]
    assert Notification.objects.filter(recipient=erin, kind="post.mention").count() == 1
    assert client.post(f"/api/v1/posts/{post['id']}/like/").status_code == 400, "not your own"
    assert api_as(erin).post(f"/api/v1/posts/{post['id']}/like/").json()["like_count"] == 1
    assert api_as(erin).post(f"/api/v1/posts/{post['id']}/like/").json()["like_count"] == 1
    assert api_as(erin).delete(f"/api/v1/posts/{post['id']}/like/").status_code == 204
    assert Notification.objects.filter(recipient=alice, kind="post.like").count() == 1
    wall = api_as(bob).get("/api/v1/walls/user/alice/").json()
    assert wall["wall"]["title"] == "alice" or wall["wall"]["key"] == "alice"
    assert [i["verb"] for i in wall["results"]] == ["posted"]
    tag_wall = api_as(bob).get("/api/v1/walls/tag/vpn/").json()
    assert [i["id"] for i in tag_wall["results"]] == [wall["results"][0]["id"]], "a tag wall lists what carries the tag"


def test_mentions_only_reach_people_who_may_see_the_wall(api_as, alice, erin, bob):
    ticket = tickets.ticket_create(actor=alice, kind="incident", title="Private", impact=2, urgency=2)
    response = api_as(bob).post("/api/v1/posts/", {"body": "@erin @alice look", "wall": {"type": "ticket", "key": ticket.pk}}, format="json")
    assert response.status_code == 201
    assert not Notification.objects.filter(recipient=erin).exists()
    assert Notification.objects.filter(recipient=alice, kind="post.mention").exists()
    assert api_as(erin).post("/api/v1/posts/", {"body": "hi", "wall": {"type": "ticket", "key": ticket.pk}}, format="json").status_code == 404
    assert api_as(erin).get(f"/api/v1/walls/ticket/{ticket.pk}/").status_code == 404
    post_id = response.json()["id"]
    assert api_as(erin).get(f"/api/v1/posts/{post_id}/").status_code == 404
    assert api_as(erin).post(f"/api/v1/posts/{post_id}/like/").status_code == 404


def test_post_bad_input_edit_and_delete(api_as, alice, erin, bob):
    client = api_as(alice)
    assert client.post("/api/v1/posts/", {"body": "", "wall": {"type": "user", "key": "alice"}}, format="json").status_code == 400
    assert client.post("/api/v1/posts/", {"body": "x"}, format="json").status_code == 400
    assert client.post("/api/v1/posts/", {"body": "x", "wall": {"type": "moon", "key": "1"}}, format="json").status_code == 400
    post = client.post("/api/v1/posts/", {"body": "first", "wall": {"type": "user", "key": "alice"}}, format="json").json()
    assert api_as(erin).patch(f"/api/v1/posts/{post['id']}/", {"body": "hacked"}, format="json").status_code == 403
    edited = client.patch(f"/api/v1/posts/{post['id']}/", {"body": "second"}, format="json").json()
    assert edited["body"] == "second" and edited["edited_at"]
    from feeds.models import PostRevision

    assert list(PostRevision.objects.values_list("body", flat=True)) == ["first"]
    assert api_as(erin).delete(f"/api/v1/posts/{post['id']}/").status_code == 403
    assert client.delete(f"/api/v1/posts/{post['id']}/").status_code == 204
    assert api_as(bob).get(f"/api/v1/posts/{post['id']}/").status_code == 404
    assert api_as(bob).get("/api/v1/walls/user/alice/").json()["results"] == []


def test_comments_on_posts_notify_the_author(api_as, alice, erin):
    post = api_as(alice).post("/api/v1/posts/", {"body": "Anyone else on the new laptops?", "wall": {"type": "user", "key": "alice"}}, format="json").json()
    response = api_as(erin).post(f"/api/v1/posts/{post['id']}/comments/", {"body": "Me, love it"}, format="json")
    assert response.status_code == 201
    assert [c["body"] for c in api_as(alice).get(f"/api/v1/posts/{post['id']}/comments/").json()["results"]] == ["Me, love it"]
    assert Notification.objects.filter(recipient=alice, kind="post.comment").exists()


def test_muting_a_ticket_clears_it_from_the_feed(api_as, alice, erin, bob):
    ticket = public_ticket(alice)
    client = api_as(erin)
    client.post("/api/v1/follows/", {"type": "ticket", "key": ticket.pk}, format="json")
    tickets.comment_add(actor=bob, ticket=ticket, body="Working on it")
    assert feed(client)["results"]
    assert client.post("/api/v1/mutes/", {"type": "ticket", "key": ticket.pk}, format="json").status_code == 200
    assert feed(client)["results"] == []
    tickets.comment_add(actor=bob, ticket=ticket, body="Still working")
    assert feed(client)["results"] == []


def test_new_follow_brings_recent_history(api_as, alice, erin, bob):
    ticket = public_ticket(alice)
    tickets.comment_add(actor=bob, ticket=ticket, body="Earlier update")
    client = api_as(erin)
    client.post("/api/v1/follows/", {"type": "ticket", "key": ticket.pk}, format="json")
    assert any("Earlier update" in i["summary"] for i in feed(client)["results"])


def test_fan_out_to_many_followers_goes_in_chunks(alice, bob, vpn_service, monkeypatch):
    from feeds import fanout, services

    monkeypatch.setattr(fanout, "CHUNK", 100)
    people = User.objects.bulk_create([User(username=f"fan{i}", password="!") for i in range(250)])
    Follow.objects.bulk_create([Follow(user=p, target_type="service", target_key=str(vpn_service.pk), target_id=vpn_service.pk) for p in people])
    post = services.post_create(actor=bob, wall_type="service", wall_key=vpn_service.pk, body="Maintenance tonight 22:00")
    assert TimelineEntry.objects.filter(activity=post.activity).count() == 251  # 250 fans + bob


def test_items_disappear_when_access_is_removed(api_as, alice, erin, bob):
    from feeds import selectors

    ticket = public_ticket(alice)
    client = api_as(erin)
    client.post("/api/v1/follows/", {"type": "ticket", "key": ticket.pk}, format="json")
    tickets.ticket_me_too(actor=erin, ticket=ticket)
    tickets.comment_add(actor=bob, ticket=ticket, body="Public update")
    assert feed(client)["results"]
    assert selectors.activities_since(user=erin, since=0, streams=frozenset({f"ticket:{ticket.pk}"}))

    response = api_as(bob).patch(f"/api/v1/tickets/{ticket.pk}/", {"visibility": "private"}, format="json")
    assert response.status_code == 200 and response.json()["visibility"] == "private"
    assert feed(client)["results"] == []
    assert selectors.activities_since(user=erin, since=0, streams=frozenset({f"ticket:{ticket.pk}"})) == []
    assert client.get(f"/api/v1/walls/ticket/{ticket.pk}/").status_code == 404
    assert client.get("/api/v1/tickets/?following=true").json()["results"] == []
    # The requester and agents keep everything.
    assert any("Public update" in i["summary"] for i in feed(api_as(alice))["results"])


def test_feed_about_one_followed_thing_and_saved_views(api_as, client, alice, erin, bob, vpn_service):
    api = api_as(erin)
    ticket = public_ticket(alice)
    other = public_ticket(alice, title="Printer jam")
    for key in (ticket.pk, other.pk):
        api.post("/api/v1/follows/", {"type": "ticket", "key": key}, format="json")
    api.post("/api/v1/follows/", {"type": "tag", "key": "vpn"}, format="json")
    tickets.comment_add(actor=bob, ticket=ticket, body="About the VPN")
    tickets.comment_add(actor=bob, ticket=other, body="About the printer")
    from feeds import services

    services.post_create(actor=bob, wall_type="user", wall_key="bob", body="New #vpn client")

    only = feed(api, f"?about=ticket:{ticket.pk}")["results"]
    assert only and all(i["object"]["key"] == str(ticket.pk) for i in only)
    tagged = feed(api, "?about=tag:vpn")["results"]
    assert [i["verb"] for i in tagged] == ["posted"]
    assert api.get("/api/v1/feed/?about=ticket:999999").status_code == 400, "only things you follow"

    saved = api.post("/api/v1/feed/filters/", {"name": "VPN ticket", "context": "tickets", "about": f"ticket:{ticket.pk}"}, format="json")
    assert saved.status_code == 201
    assert api.post("/api/v1/feed/filters/", {"name": "x", "about": "user:nobody"}, format="json").status_code == 400
    assert api.post("/api/v1/feed/filters/", {"name": "", "context": "all"}, format="json").status_code == 400
    assert [f["name"] for f in api.get("/api/v1/feed/filters/").json()["results"]] == ["VPN ticket"]
    assert api_as(alice).delete(f"/api/v1/feed/filters/{saved.json()['id']}/").status_code == 404

    client.force_login(erin)
    page = client.get(f"/feed/?context=tickets&about=ticket:{ticket.pk}")
    body = page.content.decode()
    assert "About the VPN" in body and "About the printer" not in body and "VPN ticket" in body
    assert client.post(f"/feed/views/{saved.json()['id']}/delete/").status_code == 302
    assert api.get("/api/v1/feed/filters/").json()["results"] == []


def test_muting_a_tag_clears_tagged_posts_from_the_feed(api_as, alice, erin, bob):
    from feeds import services

    client = api_as(erin)
    client.post("/api/v1/follows/", {"type": "user", "key": "bob"}, format="json")
    services.post_create(actor=bob, wall_type="user", wall_key="bob", body="Outage notes #vpn")
    services.post_create(actor=bob, wall_type="user", wall_key="bob", body="Lunch menu")
    assert len(feed(client)["results"]) == 2
    assert client.post("/api/v1/mutes/", {"type": "tag", "key": "vpn"}, format="json").status_code == 200
    assert [i["summary"] for i in feed(client)["results"]] == ["Bob Okafor posted on Bob Okafor: Lunch menu"]
