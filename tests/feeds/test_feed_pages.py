"""The feed, walls and post pages: what people see, what they may do, and what they may not."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from feeds import services as feeds
from feeds.models import Follow, Like, Mute, Post
from tickets import services as tickets

# Fan-out into feeds runs when the writing transaction commits: these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)


def public_ticket(actor, title="VPN drops"):
    return tickets.ticket_create(actor=actor, kind="incident", title=title, impact=2, urgency=2, visibility="public")


def signed_in(client, user):
    client.force_login(user)
    return client


def html(response) -> str:
    return response.content.decode()


def test_feed_shows_followed_items_and_never_an_internal_note(client, alice, erin, bob):
    ticket = public_ticket(alice)
    feeds.follow_create(actor=erin, target_type="ticket", key=ticket.pk)
    tickets.comment_add(actor=bob, ticket=ticket, body="hunter2 is the admin password", internal=True)
    tickets.comment_add(actor=bob, ticket=ticket, body="Please reconnect now")
    page = html(signed_in(client, erin).get("/feed/"))
    assert "Please reconnect now" in page
    assert "hunter2" not in page
    assert f'href="/tickets/{ticket.pk}/"' in page
    assert 'aria-current="page">Feed</a>' in page


def test_consecutive_items_on_one_object_collapse_into_one_line(client, alice, erin, bob, dave):
    ticket = public_ticket(alice)
    feeds.follow_create(actor=erin, target_type="ticket", key=ticket.pk)
    tickets.comment_add(actor=bob, ticket=ticket, body="First")
    tickets.comment_add(actor=dave, ticket=ticket, body="Second")
    tickets.comment_add(actor=alice, ticket=ticket, body="Third")
    page = html(signed_in(client, erin).get("/feed/"))
    assert f"Alice Martin and 2 others commented on {ticket.number}" in page


def test_context_tabs_filter_the_feed(client, alice, erin):
    ticket = public_ticket(alice, title="Printer on fire")
    feeds.follow_create(actor=erin, target_type="ticket", key=ticket.pk)
    feeds.follow_create(actor=erin, target_type="user", key="alice")
    feeds.post_create(actor=alice, wall_type="user", wall_key="alice", body="Lunch at noon #social")
    signed_in(client, erin)
    everything = html(client.get("/feed/"))
    assert "Printer on fire" in everything and "Lunch at noon" in everything
    ticket_tab = html(client.get("/feed/?context=tickets"))
    assert "Printer on fire" in ticket_tab and "Lunch at noon" not in ticket_tab
    assert 'href="/feed/?context=tickets" aria-current="page"' in ticket_tab
    people = html(client.get("/feed/?context=people"))
    assert "Lunch at noon" in people and "Printer on fire" not in people
    assert client.get("/feed/?context=nonsense").status_code == 200
    partial = html(client.get("/feed/items/?context=people"))
    assert "Lunch at noon" in partial and "<html" not in partial


def test_older_link_is_a_cursor(client, alice, erin):
    feeds.follow_create(actor=erin, target_type="user", key="alice")
    posts = [feeds.post_create(actor=alice, wall_type="user", wall_key="alice", body=f"Note number {n:02d} #n{n}") for n in range(25)]
    signed_in(client, erin)
    first = client.get("/feed/")
    assert first.context["older_url"].startswith("/feed/?before=")
    assert "Note number 24" in html(first) and "Note number 00" not in html(first)
    second = client.get(first.context["older_url"])
    assert "Note number 00" in html(second) and "Note number 24" not in html(second)
    assert not second.context["older_url"]
    assert len(posts) == 25


def test_walls_out_of_sight_are_404(client, erin):
    signed_in(client, erin)
    for url in ("/services/999999/", "/people/nobody/", "/tags/Not%20A%20Tag/", "/tags/VPN/", "/walls/planet/x/items/"):
        assert client.get(url).status_code == 404, url
    assert client.get("/tags/vpn/").status_code == 200


def test_pages_need_a_signed_in_person(client):
    for url in ("/feed/", "/people/alice/", "/tags/vpn/"):
        assert client.get(url).status_code == 302


def test_follow_unfollow_and_mute_through_the_pages(client, alice, erin, vpn_service):
    signed_in(client, erin)
    response = client.post("/follow/", {"type": "user", "key": "alice", "next": "/people/alice/"})
    assert response.status_code == 302 and response.url == "/people/alice/"
    follow = Follow.objects.get(user=erin, target_type="user", target_key="alice")
    page = html(client.get("/people/alice/"))
    assert "Unfollow" in page and "Erin Walsh" in page  # in "Who follows this"
    assert client.post("/follow/", {"type": "service", "key": vpn_service.pk}).status_code == 302
    assert "Unfollow" in html(client.get(f"/services/{vpn_service.pk}/"))
    assert client.post("/follow/", {"type": "user", "key": "nobody"}).status_code == 404
    assert client.post("/follow/", {"type": "planet", "key": "x"}).status_code == 400
    assert client.post("/follow/", {"type": "user", "key": "alice", "next": "https://evil.example/"}).url == "/people/alice/"

    # Someone else's follow is not theirs to remove.
    other = Follow.objects.get(user=erin, target_type="service")
    assert signed_in(type(client)(), alice).post("/unfollow/", {"follow": other.pk}).status_code == 404
    assert client.post("/unfollow/", {"follow": follow.pk}).status_code == 302
    assert not Follow.objects.filter(pk=follow.pk).exists()
    assert client.post("/unfollow/", {"follow": "x"}).status_code == 400

    assert client.post("/mute/", {"type": "tag", "key": "vpn"}).status_code == 302
    assert Mute.objects.filter(user=erin, target_type="tag", target_key="vpn").exists()
    assert "Unmute" in html(client.get("/tags/vpn/"))
    client.post("/mute/", {"type": "tag", "key": "vpn", "muted": "0"})
    assert not Mute.objects.filter(user=erin).exists()
    assert client.post("/mute/", {"type": "service", "key": vpn_service.pk}).status_code == 400


def test_post_on_a_wall_then_like_comment_edit_and_delete(client, alice, erin, bob):
    signed_in(client, alice)
    response = client.post("/people/alice/", {"post-body": "VPN is back #vpn @erin"})
    assert response.status_code == 302
    post = Post.objects.get(author=alice)
    assert post.tags == ["vpn"]
    assert "VPN is back" in html(client.get("/tags/vpn/"))

    # Alice cannot like her own post: she is told, and nothing is counted.
    refused = client.post(f"/posts/{post.pk}/like/")
    assert refused.status_code == 400
    assert "You cannot like your own post." in html(refused)
    assert not Like.objects.exists()

    erin_client = signed_in(type(client)(), erin)
    assert erin_client.post(f"/posts/{post.pk}/like/", {"next": "/tags/vpn/"}).url == "/tags/vpn/"
    post.refresh_from_db()
    assert post.like_count == 1
    assert "Unlike" in html(erin_client.get(f"/posts/{post.pk}/"))
    erin_client.post(f"/posts/{post.pk}/unlike/")
    post.refresh_from_db()
    assert post.like_count == 0

    assert erin_client.post(f"/posts/{post.pk}/comment/", {"comment-body": "Thanks!"}).status_code == 302
    assert "Thanks!" in html(erin_client.get(f"/posts/{post.pk}/"))

    # Erin may neither edit nor delete Alice's post.
    assert erin_client.post(f"/posts/{post.pk}/edit/", {"edit-body": "Hijacked"}).status_code == 403
    assert erin_client.post(f"/posts/{post.pk}/edit/", {"edit-body": ""}).status_code == 403
    assert erin_client.post(f"/posts/{post.pk}/delete/").status_code == 403
    post.refresh_from_db()
    assert post.body.startswith("VPN is back") and post.deleted_at is None
    assert "Edit post" not in html(erin_client.get(f"/posts/{post.pk}/"))

    assert client.post(f"/posts/{post.pk}/edit/", {"edit-body": "VPN is back for everyone #vpn"}).status_code == 302
    page = html(client.get(f"/posts/{post.pk}/"))
    assert "VPN is back for everyone" in page and "Earlier versions (1)" in page

    # An agent moderates: the post leaves the wall and its page.
    bob_client = signed_in(type(client)(), bob)
    assert bob_client.post(f"/posts/{post.pk}/delete/").status_code == 302
    assert client.get(f"/posts/{post.pk}/").status_code == 404
    assert "VPN is back" not in html(client.get("/tags/vpn/"))
    assert client.get("/posts/999999/").status_code == 404


def test_bad_input_is_a_400_that_keeps_the_text(client, alice, erin):
    signed_in(client, erin)
    response = client.post("/feed/", {"post-body": "x" * 10_001})
    assert response.status_code == 400
    page = html(response)
    assert 'role="alert"' in page and 'aria-invalid="true"' in page and "x" * 10_001 in page
    blank = client.post("/people/alice/", {"post-body": "   "})
    assert blank.status_code == 400 and 'aria-invalid="true"' in html(blank)
    post = feeds.post_create(actor=alice, wall_type="user", wall_key="alice", body="Hello")
    comment = client.post(f"/posts/{post.pk}/comment/", {"comment-body": "y" * 10_001})
    assert comment.status_code == 400 and "y" * 10_001 in html(comment)
    alice_client = signed_in(type(client)(), alice)
    edit = alice_client.post(f"/posts/{post.pk}/edit/", {"edit-body": ""})
    assert edit.status_code == 400 and "Your changes were not saved" in html(edit)


def test_feed_post_form_shares_on_my_own_wall(client, erin):
    response = signed_in(client, erin).post("/feed/", {"post-body": "Hello, team"})
    assert response.status_code == 302 and response.url == "/feed/?mine=1"
    post = Post.objects.get()
    assert (post.wall_type, post.wall_key) == ("user", "erin")
    assert "Hello, team" in html(client.get(response.url))
    assert "Hello, team" not in html(client.get("/feed/")), "one's own actions are hidden by default"


def test_empty_feed_suggests_team_mates_and_services(client, make_user, bob, vpn_service):
    mate = make_user("mia", team=bob.team, display_name="Mia Chen")
    ticket = tickets.ticket_create(actor=mate, kind="incident", title="VPN drops", impact=2, urgency=2, service=vpn_service)
    feeds.mute_set(actor=mate, target_type="ticket", key=ticket.pk)  # her feed is empty again
    page = html(signed_in(client, mate).get("/feed/"))
    assert "Your feed is quiet" in page
    assert "Bob Okafor" in page and "VPN" in page


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_query_counts_do_not_grow_with_items_or_follows(client, make_user, alice, erin, vpn_service):
    feeds.follow_create(actor=erin, target_type="user", key="alice")
    for n in range(20):
        feeds.post_create(actor=alice, wall_type="user", wall_key="alice", body=f"Post {n} #t{n}")
    signed_in(client, erin)
    feed_20 = _count(client, "/feed/")
    wall_20 = _count(client, "/people/alice/")
    for n in range(20, 40):
        feeds.post_create(actor=alice, wall_type="user", wall_key="alice", body=f"Post {n} #t{n}")
    for n in range(10):
        make_user(f"fan{n}")
        feeds.follow_create(actor=make_user(f"reader{n}"), target_type="user", key="alice")
        feeds.follow_create(actor=erin, target_type="tag", key=f"t{n}")
    feeds.follow_create(actor=erin, target_type="service", key=vpn_service.pk)
    assert _count(client, "/feed/") == feed_20
    assert _count(client, "/people/alice/") == wall_20
    assert _count(client, "/tags/t1/") <= wall_20


def test_a_run_of_badges_reads_as_news_about_the_person(client, erin, bob):
    from feeds.audience import SIGNED_IN, Audience
    from feeds.services import ObjectRef, activity_publish

    for badge in ("First Fix", "Author", "Pathfinder"):
        activity_publish(
            actor=None, verb="earned_badge", obj=ObjectRef("user", bob.username, bob.display_name),
            audience=Audience.of(users=[bob.pk], groups=[SIGNED_IN]), summary=f"{bob.display_name} earned {badge} — bronze",
        )
    page = html(signed_in(client, erin).get(f"/people/{bob.username}/"))
    assert f"{bob.display_name} earned 3 badges" in page
    assert "The service desk earned" not in page
