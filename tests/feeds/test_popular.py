"""Popular this week: posts ranked by likes, comments and the engagement of people one follows,
decayed with age; only posts the reader may see; a fixed number of queries."""
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from communities import services as communities
from feeds import selectors
from feeds import services as feeds

pytestmark = pytest.mark.django_db(transaction=True)


def post(author, body, wall=None):
    wall_type, wall_key = wall or ("user", author.username)
    return feeds.post_create(actor=author, wall_type=wall_type, wall_key=wall_key, body=body)


def ranked(viewer) -> list[str]:
    return [p.body for p in selectors.popular_posts(viewer=viewer)]


def test_engagement_ranks_and_follows_weigh_more(alice, erin, bob, make_user):
    fans = [make_user(f"fan{n}") for n in range(5)]
    quiet = post(alice, "Quiet post")
    liked = post(alice, "Liked by four")
    for fan in fans[:4]:
        feeds.like_add(actor=fan, post_id=liked.pk)
    talked = post(erin, "Commented once")
    feeds.post_comment_add(actor=fans[4], post_id=talked.pk, body="Agreed")
    followed = post(erin, "Liked and answered by someone bob follows")
    feeds.follow_create(actor=bob, target_type="user", key="alice")
    feeds.like_add(actor=alice, post_id=followed.pk)
    feeds.post_comment_add(actor=alice, post_id=followed.pk, body="Yes!")

    for_erin = ranked(erin)
    assert for_erin[0] == "Liked by four" and for_erin[-1] == quiet.body
    assert for_erin.index("Liked and answered by someone bob follows") < for_erin.index("Commented once")
    for_bob = ranked(bob)
    assert for_bob[0] == "Liked and answered by someone bob follows", "what the people I follow engage with counts double"
    assert for_bob[-1] == quiet.body


def test_older_engagement_decays_and_last_week_is_gone(alice, erin, make_user):
    fans = [make_user(f"fan{n}") for n in range(4)]
    with time_machine.travel(timezone.now() - timedelta(days=3)):
        old = post(alice, "Three days old, three likes")
        for fan in fans[:3]:
            feeds.like_add(actor=fan, post_id=old.pk)
    with time_machine.travel(timezone.now() - timedelta(days=8)):
        stale = post(alice, "Last week's hit")
        for fan in fans:
            feeds.like_add(actor=fan, post_id=stale.pk)
    fresh = post(alice, "Fresh, two likes")
    for fan in fans[:2]:
        feeds.like_add(actor=fan, post_id=fresh.pk)
    assert ranked(erin) == ["Fresh, two likes", "Three days old, three likes"]


def test_posts_out_of_sight_never_rank(alice, erin):
    community = communities.community_create(actor=alice, name="Finance", slug="finance", visibility="private")
    secret = post(alice, "Budget figures", wall=("community", community.slug))
    assert "Budget figures" not in ranked(erin)
    assert "Budget figures" in ranked(alice)


def test_the_page_lists_them_with_a_fixed_query_budget(client, alice, erin, make_user):
    fan = make_user("fan")
    first = post(alice, "First post")
    feeds.like_add(actor=fan, post_id=first.pk)
    client.force_login(erin)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/feed/popular/")
        assert response.status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for n in range(8):
        more = post(alice, f"Post {n}")
        feeds.like_add(actor=erin, post_id=more.pk)
    assert count() == few
    html = client.get("/feed/popular/").content.decode()
    assert "First post" in html and 'action="/posts/' in html and "Popular this week" in html
