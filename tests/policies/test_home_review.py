"""The admin's home starts with what waits for review: held outbound posts and data-loss flags;
people who do not review never see it."""
from __future__ import annotations

import re

from django.test import Client

from policies import services


def home(user, django_assert_max_num_queries, budget=14) -> str:
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    with django_assert_max_num_queries(budget):
        response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def test_admin_home_lists_held_posts_and_open_flags(alice, bob, dave, make_channel, make_policy,
                                                     django_assert_max_num_queries):
    channel = make_channel(name="Careful", audience="private_group")
    make_policy(channel, requires_approval=True)
    for n in range(3):
        services.outbound_create(actor=bob, channel=channel, body=f"Town hall at {n}pm")
    services.dlp_scan(author=alice, kind="feeds.post", object_id=1, text="mail me at a@example.com", url="/posts/1/")

    html = home(dave, django_assert_max_num_queries)

    review = re.search(r'<section[^>]*id="home-review".*?</section>', html, re.S)[0]
    assert re.findall(r"<h2 id=\"[^\"]*\">([^<]*)</h2>", html)[0] == "Awaiting review"
    assert "Town hall at 2pm" in review and 'Held posts <span class="badge badge-neutral">3</span>' in review
    assert "Possible personal data or a secret, by Alice Martin" in review
    assert "feeds.post" not in review


def test_people_who_do_not_review_see_no_review_section(alice, bob, django_assert_max_num_queries):
    for person in (alice, bob):
        assert 'id="home-review"' not in home(person, django_assert_max_num_queries)
