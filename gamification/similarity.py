"""Is a resolved ticket a problem the desk had not met before?

"Similar" means sharing at least two significant words (or every word, for a one- or
two-word title) with a resolved ticket or a knowledge article. On PostgreSQL this is a
full-text query over the tickets' search vectors and the articles' text, with stemming
("printers" meets "printer"); on SQLite a plain word comparison over recent titles.
"""
from __future__ import annotations

import re
from itertools import combinations

from django.db import connection

WORD_RE = re.compile(r"[a-z0-9]+")
STOP = frozenset(
    "the and for with not from that this have has was were are but into onto over under when what "
    "why how who its our your their there here can cannot cant wont dont does did any all some "
    "out off again still just very too after before about since while then than also".split()
)
MAX_TERMS = 6
SQLITE_WINDOW = 2000


def terms(text: str) -> list[str]:
    seen: list[str] = []
    for word in WORD_RE.findall(text.lower()):
        if len(word) >= 3 and word not in STOP and word not in seen:
            seen.append(word)
    return seen[:MAX_TERMS]


def _tsquery(words: list[str]) -> str:
    if len(words) <= 2:
        return " & ".join(words)
    return " | ".join(f"({a} & {b})" for a, b in combinations(words, 2))


def has_similar(ticket) -> bool:
    """True when something like `ticket` was already solved or written up."""
    words = terms(ticket.title)
    if not words:
        return True  # nothing to compare: never pay "novel" for an empty title
    if connection.vendor == "postgresql":
        return _similar_postgres(ticket, words)
    return _similar_plain(ticket, words)


def _similar_postgres(ticket, words: list[str]) -> bool:
    from django.contrib.postgres.search import SearchQuery, SearchVector

    from communities.models import Article
    from tickets.models import Status, Ticket

    query = SearchQuery(_tsquery(words), search_type="raw", config="english")
    solved = Ticket.objects.filter(status__in=[Status.RESOLVED, Status.CLOSED], search_vector=query).exclude(pk=ticket.pk)
    if solved.exists():
        return True
    return (
        Article.objects.annotate(doc=SearchVector("title", "body", config="english")).filter(doc=query).exists()
    )


def _matches(words: list[str], text: str) -> bool:
    other = set(terms_all(text))
    common = sum(1 for w in words if w in other)
    return common >= min(2, len(words))


def terms_all(text: str) -> list[str]:
    return [w for w in WORD_RE.findall(text.lower()) if len(w) >= 3 and w not in STOP]


def _similar_plain(ticket, words: list[str]) -> bool:
    from communities.models import Article
    from tickets.models import Status, Ticket

    titles = Ticket.objects.filter(status__in=[Status.RESOLVED, Status.CLOSED]).exclude(pk=ticket.pk).order_by("-id")
    if any(_matches(words, t) for t in titles.values_list("title", flat=True)[:SQLITE_WINDOW]):
        return True
    articles = Article.objects.order_by("-id").values_list("title", "body")[:SQLITE_WINDOW]
    return any(_matches(words, f"{title} {body}") for title, body in articles)
