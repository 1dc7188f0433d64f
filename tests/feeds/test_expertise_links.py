"""Expertise tags are free text: any of them renders on the profile and links somewhere that works."""
import html
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

ODD_TAGS = ["c/c++", "what?", "c#", "ms office", "café", "ünïcødé/日本語", "100%", "a&b"]


def test_profile_renders_and_links_every_expertise_tag(make_user, alice):
    person = make_user("frank", display_name="Frank Odd", expertise_tags=[*ODD_TAGS, "VPN"])
    client = Client()
    client.force_login(alice)
    response = client.get(f"/people/{person.username}/")
    assert response.status_code == 200
    page = response.content.decode()

    # The wall's own hashtag spelling links to the tag's wall.
    assert 'href="/tags/vpn/"' in page and client.get("/tags/vpn/").status_code == 200
    for tag in ODD_TAGS:
        shown = f"#{html.escape(tag, quote=False)}"
        assert shown in page, tag
        start = page.index(shown)
        href = html.unescape(page[page.rindex('href="', 0, start) + 6:page.index('"', page.rindex('href="', 0, start) + 6)])
        parts = urlsplit(href)
        assert parts.path == "/search/" and parse_qs(parts.query) == {"tab": ["community"], "q": [tag]}, (tag, href)
        assert not parts.fragment
        followed = client.get(href)
        assert followed.status_code == 200, (tag, href)
