"""The communities' part of the end user's home: communities and articles for their services
(the services they reported tickets about or follow)."""
from __future__ import annotations

from accounts.models import Role, User

from . import selectors


def home_sections(*, user: User, sections: list) -> None:
    if user.role != Role.END_USER:
        return
    sections.append({
        "order": 30, "column": "side", "template": "communities/home/_suggested.html",
        "communities": selectors.home_suggested_communities(user=user),
        "articles": selectors.home_suggested_articles(user=user),
    })
