"""What the portal and the search page offer from the knowledge kept above tickets (articles,
community questions), without tickets knowing who keeps it.

The app that keeps it provides its functions from its ``AppConfig.ready()`` with ``provide()``.
Without a provider the portal suggests tickets only and the community tab finds nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import Http404

_provided: dict[str, Callable] = {}


def provide(*, article_suggestions: Callable, community_search: Callable, deflect_to_article: Callable) -> None:
    """``article_suggestions(user=, text=)`` and ``community_search(user=, text=)`` return lists;
    ``deflect_to_article(request)`` answers the portal's "this article helped" link."""
    _provided.update(
        article_suggestions=article_suggestions, community_search=community_search, deflect_to_article=deflect_to_article
    )


def article_suggestions(*, user, text: str) -> list:
    fn = _provided.get("article_suggestions")
    return fn(user=user, text=text) if fn else []


def community_search(*, user, text: str) -> list:
    fn = _provided.get("community_search")
    return fn(user=user, text=text) if fn else []


def deflect_to_article(request):
    fn = _provided.get("deflect_to_article")
    if fn is None:
        raise Http404("Unknown suggestion.")
    return fn(request)
