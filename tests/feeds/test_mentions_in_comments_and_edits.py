"""A post's comments and edits tell the people they newly mention, if those may see the wall; the
post page's comment and edit boxes and the feed's inline comment box suggest them."""
from __future__ import annotations

from django.test import Client

from feeds import services as feeds
from feeds.models import Notification
from tests.communities.test_mention_boxes import boxes
from tickets import services as tickets


def mentions_of(user) -> list[str]:
    return list(Notification.objects.filter(recipient=user, kind="post.mention").values_list("text", flat=True))


def test_a_comment_mentioning_people_tells_only_those_who_may_see_the_wall(alice, erin, bob, make_user):
    sam = make_user("sam", role="agent", team=bob.team, display_name="Sam Reyes")
    ticket = tickets.ticket_create(actor=alice, kind="incident", title="Private laptop")
    post = feeds.post_create(actor=alice, wall_type="ticket", wall_key=ticket.pk, body="Still broken")
    comment = feeds.post_comment_add(actor=bob, post_id=post.pk, body="@sam @erin @alice can you check?")
    assert mentions_of(sam) == [f"Bob Okafor mentioned you in a comment on {ticket.number} Private laptop"]
    assert Notification.objects.get(recipient=sam, kind="post.mention").url == f"/posts/{post.pk}/#comment-{comment.pk}"
    assert not Notification.objects.filter(recipient=erin).exists(), "erin may not see the private ticket"
    assert mentions_of(alice) == [], "the post's author hears of the comment once, as a comment"
    assert Notification.objects.filter(recipient=alice, kind="post.comment").count() == 1


def test_an_edit_tells_only_the_newly_mentioned(alice, erin, bob, make_user):
    post = feeds.post_create(actor=alice, wall_type="user", wall_key="alice", body="Lunch, @erin?")
    assert len(mentions_of(erin)) == 1
    feeds.post_edit(actor=alice, post_id=post.pk, body="Lunch, @erin and @bob?")
    assert len(mentions_of(erin)) == 1, "already told"
    assert mentions_of(bob) == ["Alice Martin mentioned you in an edited post on Alice Martin"]


def test_an_edit_on_a_private_wall_tells_nobody_outside(alice, erin, bob):
    ticket = tickets.ticket_create(actor=alice, kind="incident", title="Private laptop")
    post = feeds.post_create(actor=alice, wall_type="ticket", wall_key=ticket.pk, body="Still broken")
    feeds.post_edit(actor=alice, post_id=post.pk, body="Still broken, @erin @bob")
    assert not Notification.objects.filter(recipient=erin).exists()
    assert len(mentions_of(bob)) == 1


def test_comments_and_edits_share_the_mention_cap(api_as, alice, make_user, settings):
    settings.MENTIONS_MAX = 2
    for name in ("u1", "u2", "u3"):
        make_user(name)
    post = feeds.post_create(actor=alice, wall_type="user", wall_key="alice", body="Hello")
    client = api_as(alice)
    assert client.post(f"/api/v1/posts/{post.pk}/comments/", {"body": "@u1 @u2 @u3"}, format="json").status_code == 400
    assert client.patch(f"/api/v1/posts/{post.pk}/", {"body": "@u1 @u2 @u3"}, format="json").status_code == 400
    assert not Notification.objects.filter(kind="post.mention").exists()


def test_the_post_page_and_the_feed_offer_mentions_for_the_wall(alice, bob):
    ticket = tickets.ticket_create(actor=alice, kind="incident", title="Private laptop")
    post = feeds.post_create(actor=alice, wall_type="ticket", wall_key=ticket.pk, body="Still broken")
    client = Client()
    client.force_login(alice)
    on_post = boxes(client.get(f"/posts/{post.pk}/"))
    assert set(on_post.values()) == {f"ticket:{ticket.pk}"} and len(on_post) == 2, on_post
    on_feed = boxes(client.get("/feed/?mine=1"))
    assert on_feed == {"post-body": "user:alice", "comment-body": f"ticket:{ticket.pk}"}, on_feed
