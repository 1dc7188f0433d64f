"""Inbound listening: RSS/Atom sources and signed webhooks turned into items and tickets."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from servicedesk import safe_urls
from servicedesk.errors import ApplicationError, Forbidden, NotVisible
from tickets.models import Kind
from tickets.services import ticket_create

from .. import engine, selectors
from ..models import ListeningItem, ListeningRule, ListeningSource
from ._common import _require_admin, _str_list

logger = logging.getLogger(__name__)


@transaction.atomic
def listening_source_create(*, actor: User, name: str, kind: str, url: str = "", secret: str = "") -> ListeningSource:
    _require_admin(actor)
    errors = {}
    if not isinstance(name, str) or not name.strip() or len(name) > 120:
        errors["name"] = ["Give the source a name."]
    elif ListeningSource.objects.filter(name__iexact=name.strip()).exists():
        errors["name"] = ["A source with this name exists."]
    if kind not in ListeningSource.Kind.values:
        errors["kind"] = ["Choose feed or webhook."]
    if kind == ListeningSource.Kind.FEED:
        try:
            URLValidator(schemes=["http", "https"])(url or "")
        except ValidationError:
            errors["url"] = ["Give the feed's http(s) address."]
        else:
            if problem := safe_urls.address_problem(url):
                errors["url"] = [problem]
    if kind == ListeningSource.Kind.WEBHOOK and (not isinstance(secret, str) or len(secret) < 16):
        errors["secret"] = ["Give a shared secret of at least 16 characters."]
    if errors:
        raise ApplicationError("The source could not be saved.", errors=errors)
    return ListeningSource.objects.create(name=name.strip(), kind=kind, url=url or "", secret=secret or "")


@transaction.atomic
def listening_rule_create(*, actor: User, label: str, keywords) -> ListeningRule:
    _require_admin(actor)
    errors: dict = {}
    words = _str_list(keywords, "keywords", errors)
    if not words:
        errors["keywords"] = ["Give at least one keyword."]
    if not isinstance(label, str) or not label.strip():
        errors["label"] = ["Give the rule a label."]
    if errors:
        raise ApplicationError("The rule could not be saved.", errors=errors)
    return ListeningRule.objects.create(label=label.strip()[:80], keywords=words)


_analyzer = None


def sentiment(text: str) -> float:
    global _analyzer
    if _analyzer is None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        _analyzer = SentimentIntensityAnalyzer()
    return round(_analyzer.polarity_scores(text or "")["compound"], 4)


def _ingest(source: ListeningSource, *, external_id: str, title: str = "", body: str = "", url: str = "", author: str = "",
            published_at=None, rules: list[ListeningRule] | None = None) -> ListeningItem | None:
    # Text from outside may carry NUL characters, which PostgreSQL cannot store and which mean nothing.
    external_id, title, body, url, author = (
        (value or "").replace("\x00", "") for value in (external_id, title, body, url, author))
    external_id = (external_id or url or hashlib.sha256(f"{title}\n{body}".encode()).hexdigest())[:500]
    if ListeningItem.objects.filter(source=source, external_id=external_id).exists():
        return None
    text = f"{title}\n{body}"
    rules = rules if rules is not None else list(ListeningRule.objects.filter(active=True))
    labels = [r.label for r in rules if any(engine.term_re(k).search(text) for k in r.keywords if k.strip())]
    score = sentiment(text)
    if score <= settings.LISTENING_NEGATIVE_THRESHOLD:
        labels.append("negative")
    try:
        URLValidator(schemes=["http", "https"])(url or "")
    except ValidationError:
        url = ""
    return ListeningItem.objects.create(
        source=source, external_id=external_id, title=(title or "")[:300], body=(body or "")[:10_000], url=url[:1000],
        author=(author or "")[:200], published_at=published_at, sentiment=score, labels=labels, on_wall=bool(labels),
    )


LISTENING_MAX_BYTES = 5 * 1024 * 1024


FEED_UNREACHABLE = "Could not reach the feed."


def _fetch_feed(url: str) -> bytes:
    """GET a feed through the address guard: every redirect hop vetted, at most
    OUTBOUND_MAX_REDIRECTS of them, at most LISTENING_MAX_BYTES read."""
    import httpx

    timeout = httpx.Timeout(settings.POLICIES_HTTP_TIMEOUT, connect=settings.POLICIES_CONNECT_TIMEOUT)
    with safe_urls.client(timeout=timeout, follow_redirects=True, headers={"User-Agent": "ServiceDesk-listening/1"}) as client:
        with client.stream("GET", url) as response:
            response.raise_for_status()
            content = bytearray()
            for chunk in response.iter_bytes():
                content += chunk
                if len(content) > LISTENING_MAX_BYTES:
                    raise ValueError("the feed is too large")
            return bytes(content)


def _feed_error(exc: Exception) -> str:
    """What the source records: the HTTP status of a vetted feed, otherwise one generic text (the
    network error itself would tell which ports answer where)."""
    import httpx

    if isinstance(exc, httpx.HTTPStatusError):
        return f"{FEED_UNREACHABLE} It answered HTTP {exc.response.status_code}."
    if isinstance(exc, (httpx.HTTPError, httpx.InvalidURL, safe_urls.RefusedAddress)):
        return FEED_UNREACHABLE
    return "Could not read the feed."


def listening_poll(*, source_id: int | None = None) -> int:
    """Read every active feed source (or one) and keep the new entries. Returns how many."""
    import feedparser

    sources = ListeningSource.objects.filter(active=True, kind=ListeningSource.Kind.FEED)
    if source_id is not None:
        sources = sources.filter(pk=source_id)
    rules = list(ListeningRule.objects.filter(active=True))
    added = 0
    for source in sources:
        error = ""
        try:
            parsed = feedparser.parse(_fetch_feed(source.url))
            with transaction.atomic():
                for entry in parsed.entries[:200]:
                    published = None
                    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
                    if stamp:
                        published = datetime(*stamp[:6], tzinfo=ZoneInfo("UTC"))
                    item = _ingest(
                        source, external_id=entry.get("id") or entry.get("link") or "", title=entry.get("title", ""),
                        body=re.sub(r"<[^>]+>", " ", entry.get("summary", "")).strip(), url=entry.get("link", ""),
                        author=entry.get("author", ""), published_at=published, rules=rules,
                    )
                    added += item is not None
        except Exception as exc:  # noqa: BLE001 - one broken feed does not stop the others
            error = _feed_error(exc)
            logger.warning("polling listening source %s failed: %s: %s", source.pk, type(exc).__name__, exc)
        ListeningSource.objects.filter(pk=source.pk).update(last_polled_at=timezone.now(), last_error=error)
    return added


def signature_valid(*, secret: str, raw_body: bytes, header: str) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, (header or "").strip())


@transaction.atomic
def listening_webhook_receive(*, source_id, raw_body: bytes, signature: str) -> list[ListeningItem]:
    """A signed mention: checked against the source's secret before anything is read or stored."""
    source = ListeningSource.objects.filter(pk=source_id, kind=ListeningSource.Kind.WEBHOOK, active=True).first() \
        if str(source_id).isdecimal() else None
    if source is None:
        raise NotVisible()
    if not signature:
        raise ApplicationError("Sign the body with the shared secret (X-Signature-256: sha256=...).", status=401)
    if not signature_valid(secret=source.secret, raw_body=raw_body, header=signature):
        raise ApplicationError("The signature does not match.", status=403)
    try:
        payload = json.loads(raw_body or b"null")
    except ValueError:
        raise ApplicationError("Send JSON.") from None
    entries = payload.get("items") if isinstance(payload, dict) and "items" in payload else [payload]
    if not isinstance(entries, list) or not all(isinstance(e, dict) and isinstance(e.get("text", ""), str) for e in entries):
        raise ApplicationError("Send {id, text, url, author} or {items: [...]}.", errors={"text": ["Give the mention's text."]})
    rules = list(ListeningRule.objects.filter(active=True))
    items = []
    for entry in entries[:100]:
        if not str(entry.get("text", "")).strip():
            raise ApplicationError("A mention needs its text.", errors={"text": ["This field may not be blank."]})
        item = _ingest(source, external_id=str(entry.get("id") or ""), title=str(entry.get("title") or "")[:300],
                       body=entry["text"], url=str(entry.get("url") or ""), author=str(entry.get("author") or ""), rules=rules)
        if item is not None:
            items.append(item)
    return items


@transaction.atomic
def listening_item_to_ticket(*, actor: User, item_id):
    """An agent turns what was heard into an incident; the ticket links back to the source."""
    if not selectors.can_listen(actor):
        raise Forbidden("Only the service desk turns mentions into tickets.")
    item = ListeningItem.objects.select_for_update(of=("self",)).select_related("source").filter(pk=item_id).first() \
        if str(item_id).isdecimal() else None
    if item is None:
        raise NotVisible()
    if item.ticket_id:
        return item.ticket
    first_line = item.body.strip().splitlines()[0] if item.body.strip() else ""
    summary = (item.title or first_line or "A mention").strip()
    source = f"[{item.source.name}]({item.url})" if item.url else item.source.name
    description = f"{item.body}\n\n---\nHeard on {source}" + (f" from {item.author}" if item.author else "") + \
        f" (sentiment {item.sentiment:+.2f})."
    ticket = ticket_create(actor=actor, kind=Kind.INCIDENT, title=f"Heard: {summary}"[:200], description=description)
    item.ticket = ticket
    item.save(update_fields=["ticket"])
    return ticket
