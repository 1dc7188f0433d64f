"""Finding what someone else already reported, from the words of a short description.

Both databases rank the same terms: PostgreSQL with its English full-text search (stemmed) and
trigram similarity, the embedded SQLite with FTS5's porter tokenizer. People describe one outage in
different words ("drops" / "disconnects", "log in" / "sign in"), so each word is also searched with
the few others IT users commonly use for it.

Ranking counts how many of the description's words (each with its synonyms, stemmed by the
database) a row mentions, so a paraphrase with two of three words in common outranks a row that
repeats one word often; ties go to the title closest in spelling (PostgreSQL trigrams) or the best
BM25 score (SQLite), then the newest.
"""
from __future__ import annotations

import re

from django.contrib.postgres.search import SearchQuery, TrigramWordSimilarity
from django.db import connection
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)

STOPWORDS = frozenset("""
a about after again all also am an and any are as at be been before being but by can cannot cant
could did do does doing dont during each every few for from get gets getting got had has have
having he her here hers him his how i if in into is isnt it its just keep keeps like me more most my
no not now of off on once only or other our out over own same she should since so some still such
than that the their them then there these they this those through to too under until up very was
we were what when where which while who why will with won't would you your yours anymore again
today morning afternoon evening please help issue problem anyone someone else also really
""".split())

# Groups of words people use for the same thing; a term brings in the rest of its group.
SYNONYM_GROUPS = [
    {"disconnect", "disconnects", "disconnected", "disconnecting", "drop", "drops", "dropping", "dropped",
     "cut", "cuts", "kicked", "loses", "losing", "lost"},
    {"slow", "slowly", "sluggish", "laggy", "lag", "lagging", "crawling", "crawl", "ages", "forever"},
    {"login", "logon", "signin", "log", "sign", "signing", "logging", "authenticate", "authentication"},
    {"wifi", "wi-fi", "wireless", "wlan"},
    {"email", "e-mail", "mail", "mails", "emails", "outlook", "inbox", "mailbox"},
    {"print", "prints", "printer", "printers", "printing"},
    {"drive", "share", "shared", "fileshare", "folder", "folders"},
    {"crash", "crashes", "crashing", "freeze", "freezes", "freezing", "frozen", "hang", "hangs", "hanging"},
    {"screen", "monitor", "display"},
    {"laptop", "notebook", "computer", "pc", "desktop"},
    {"internet", "network", "connection", "connectivity", "online", "offline"},
    {"headset", "microphone", "mic", "audio", "sound"},
    {"broken", "fails", "failing", "failed", "failure", "error", "errors", "down", "unavailable", "outage"},
    {"password", "passwords", "credentials"},
    {"minute", "minutes", "min", "mins"},
]
_GROUP_OF = {word: group for group in SYNONYM_GROUPS for word in group}
MAX_TERMS = 12


def terms(text: str) -> list[str]:
    """The words of `text` that carry meaning, lower-cased, in order, without repeats."""
    seen: list[str] = []
    for match in _WORD.finditer(text.lower()):
        word = match.group(0).replace("’", "'")
        if word in STOPWORDS or len(word) < 2 or word.isdigit():
            continue
        if word not in seen:
            seen.append(word)
    return seen[:MAX_TERMS]


def expanded(words: list[str]) -> list[list[str]]:
    """Each word with the words people use for it instead: [["vpn"], ["drops", "disconnects", ...]]."""
    return [[word, *sorted(_GROUP_OF.get(word, set()) - {word})] for word in words]


def fts5_any(alternatives: list[str]) -> str:
    """An FTS5 MATCH expression for any of these words, each quoted so that nothing a person types is
    read as FTS5 syntax."""
    quoted = {word.replace('"', "") for word in alternatives} - {""}
    return " OR ".join(f'"{word}"' for word in sorted(quoted))


def fts5_query(words: list[str]) -> str:
    """Any of the words or their synonyms."""
    return fts5_any([alt for group in expanded(words) for alt in group])


def fts5_table_sql(*, table: str, source: str, columns: tuple[str, ...]) -> list[str]:
    """Statements that create an FTS5 index over `source` kept in step by SQLite triggers, and fill it."""
    cols = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {table} USING fts5({cols}, content='{source}', content_rowid='id', "
        "tokenize='porter unicode61')",
        f"CREATE TRIGGER IF NOT EXISTS {table}_ai AFTER INSERT ON {source} BEGIN "
        f"INSERT INTO {table}(rowid, {cols}) VALUES (new.id, {new}); END",
        f"CREATE TRIGGER IF NOT EXISTS {table}_ad AFTER DELETE ON {source} BEGIN "
        f"INSERT INTO {table}({table}, rowid, {cols}) VALUES ('delete', old.id, {old}); END",
        f"CREATE TRIGGER IF NOT EXISTS {table}_au AFTER UPDATE ON {source} BEGIN "
        f"INSERT INTO {table}({table}, rowid, {cols}) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO {table}(rowid, {cols}) VALUES (new.id, {new}); END",
        f"INSERT INTO {table}({table}) VALUES ('rebuild')",
    ]


def fts5_drop_sql(*, table: str) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {table}_{suffix}" for suffix in ("ai", "ad", "au")] + [f"DROP TABLE IF EXISTS {table}"]


# --- ranking -------------------------------------------------------------------------------

# Below the words needed in common, a row is only offered when its title is spelled almost alike.
TITLE_SIMILARITY_ALONE = 0.7


def _needed(groups: int) -> int:
    return min(2, groups)


def ranked(candidates: QuerySet, text: str, *, limit: int, vector, fts_table: str) -> list:
    """The rows of `candidates` that look most like `text`, best first. `vector` is the rows'
    PostgreSQL search vector (a field or an expression); `fts_table` their SQLite FTS5 index."""
    words = terms(text[:300])
    if not words:
        return []
    if connection.vendor == "postgresql":
        return _ranked_postgres(candidates, text[:300], words, limit, vector)
    if connection.vendor == "sqlite":
        return _ranked_sqlite(candidates, words, limit, fts_table)
    return list(candidates.filter(title__icontains=words[0]).order_by("-id")[:limit])


def _any_of(alternatives: list[str]) -> SearchQuery:
    query = None
    for word in alternatives:
        part = SearchQuery(word, config="english")
        query = part if query is None else query | part
    return query


def _ranked_postgres(candidates, text, words, limit, vector):
    groups = expanded(words)
    matched = sum(
        (Case(When(similarity_vector=_any_of(group), then=Value(1)), default=Value(0), output_field=IntegerField())
         for group in groups),
        Value(0),
    )
    everything = _any_of([word for group in groups for word in group])
    return list(
        candidates.annotate(similarity_vector=vector)
        .filter(Q(similarity_vector=everything) | Q(title__trigram_word_similar=text))
        .annotate(matched=matched, likeness=TrigramWordSimilarity(text, "title"))
        .filter(Q(matched__gte=_needed(len(groups))) | Q(likeness__gte=TITLE_SIMILARITY_ALONE))
        .order_by(F("matched").desc(), F("likeness").desc(), "-id")[:limit]
    )


def _ranked_sqlite(candidates, words, limit, fts_table):
    groups = expanded(words)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT rowid FROM {fts_table} WHERE {fts_table} MATCH %s ORDER BY bm25({fts_table}, 3.0, 1.0) LIMIT 500",
            [fts5_query(words)],
        )
        order = [row[0] for row in cursor.fetchall()]
        if not order:
            return []
        score = dict.fromkeys(order, 0)
        placeholders = ", ".join(["%s"] * len(order))
        for group in groups:
            cursor.execute(
                f"SELECT rowid FROM {fts_table} WHERE {fts_table} MATCH %s AND rowid IN ({placeholders})",
                [fts5_any(group), *order],
            )
            for (rowid,) in cursor.fetchall():
                score[rowid] += 1
    needed = _needed(len(groups))
    keep = [pk for pk in order if score[pk] >= needed]
    visible = {t.pk: t for t in candidates.filter(pk__in=keep)}
    best = sorted((pk for pk in keep if pk in visible), key=lambda pk: (-score[pk], order.index(pk)))
    return [visible[pk] for pk in best[:limit]]
