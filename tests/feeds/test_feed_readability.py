"""The feed reads as news about other people: sentences that name the object, one's own actions
left out unless asked for, posts liked and answered in place, a fixed number of queries."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from feeds import services as feeds
from feeds.models import Like, PostComment
from tickets import services as tickets

pytestmark = pytest.mark.django_db(transaction=True)


def page(client, user, url="/feed/") -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_me_too_names_the_incident_and_how_many_share_it(client, alice, erin, bob, make_user):
    incident = tickets.ticket_create(actor=bob, kind="incident", title="VPN disconnects", visibility="public")
    feeds.follow_create(actor=bob, target_type="ticket", key=incident.pk)
    tickets.ticket_me_too(actor=make_user("mia", display_name="Mia Chen"), ticket=incident)
    tickets.ticket_me_too(actor=alice, ticket=incident)
    html = page(client, bob)
    assert f"Alice Martin is affected by {incident.number} VPN disconnects, with 1 other" in html
    assert "(2 people)" not in html


def test_own_actions_are_hidden_until_asked_for(client, alice, erin):
    feeds.follow_create(actor=erin, target_type="user", key="alice")
    feeds.post_create(actor=alice, wall_type="user", wall_key="alice", body="Alice says hello")
    feeds.post_create(actor=erin, wall_type="user", wall_key="erin", body="Erin's own note")
    default = page(client, erin)
    assert "Alice says hello" in default and "Erin's own note" not in default
    assert 'href="/feed/?mine=1" id="feed-mine-toggle">Show my own activity' in default
    assert 'data-hide-actor="erin"' in default
    mine = page(client, erin, "/feed/?mine=1")
    assert "Erin's own note" in mine and "Hide my own activity" in mine and "data-hide-actor" not in mine
    partial = page(client, erin, "/feed/items/?mine=1")
    assert "Erin's own note" in partial


def test_posts_are_liked_and_answered_from_the_feed(client, alice, erin):
    feeds.follow_create(actor=erin, target_type="user", key="alice")
    post = feeds.post_create(actor=alice, wall_type="user", wall_key="alice", body="Anyone for the **VPN** beta?")
    html = page(client, erin)
    assert "<strong>VPN</strong>" in html, "the post's text is on the card"
    assert f'action="/posts/{post.pk}/like/"' in html and f'action="/posts/{post.pk}/comment/"' in html

    liked = client.post(f"/posts/{post.pk}/like/", {"next": "/feed/"})
    assert liked.status_code == 302 and liked.url == "/feed/"
    commented = client.post(f"/posts/{post.pk}/comment/", {"comment-body": "Count me in", "next": "/feed/"})
    assert commented.status_code == 302 and commented.url == "/feed/"
    assert Like.objects.filter(post=post, user=erin).exists()
    assert PostComment.objects.filter(post=post, author=erin, body="Count me in").exists()
    after = page(client, erin)
    assert "1 like" in after and "1 comment" in after and f'action="/posts/{post.pk}/unlike/"' in after


def test_no_like_button_on_ones_own_post_and_a_foreign_next_is_ignored(client, alice, erin):
    post = feeds.post_create(actor=erin, wall_type="user", wall_key="erin", body="My own post")
    html = page(client, erin, "/feed/?mine=1")
    assert "My own post" in html and f'action="/posts/{post.pk}/like/"' not in html
    client.force_login(alice)
    response = client.post(f"/posts/{post.pk}/comment/", {"comment-body": "Nice", "next": "https://evil.example/"})
    assert response.status_code == 302 and response.url.startswith(f"/posts/{post.pk}/")


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_feed_with_posts_keeps_a_fixed_query_budget(client, alice, erin, django_assert_max_num_queries):
    feeds.follow_create(actor=erin, target_type="user", key="alice")
    feeds.post_create(actor=alice, wall_type="user", wall_key="alice", body="First")
    client.force_login(erin)
    few = _count(client, "/feed/")
    for n in range(12):
        post = feeds.post_create(actor=alice, wall_type="user", wall_key="alice", body=f"Post {n}")
        if n % 3 == 0:
            feeds.like_add(actor=erin, post_id=post.pk)
    assert _count(client, "/feed/") == few
    with django_assert_max_num_queries(14):
        client.get("/feed/")
