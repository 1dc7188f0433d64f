"""The network side of each channel kind: one attempt, one time-out, no retries of its own.

Each sender answers with what happened, in the terms the pipeline needs:

- SENT: the target said yes;
- AMBIGUOUS: the request may have arrived but no answer came (read time-out, a dropped
  connection after sending): never retried blindly;
- RETRY: it certainly did not arrive or the target asked to try later (connection refused,
  connect time-out, 5xx, 429);
- FAILED: the target refused it for good (other 4xx, bad configuration).

httpx is used directly rather than a notification library so that a time-out can be told apart
from a refusal; that distinction is what keeps a post from going out twice.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import socket
from dataclasses import dataclass

import httpx
from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from servicedesk import safe_urls
from servicedesk.text import one_line

logger = logging.getLogger(__name__)

SENT, AMBIGUOUS, RETRY, FAILED = "sent", "ambiguous", "retry", "failed"

NO_ANSWER = "The target did not answer; the post may have arrived."

SECRET_KEYS = frozenset({"url", "access_token", "bearer_token", "secret", "password", "api_key", "token"})

# Per kind: required config keys, optional ones.
CONFIG_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "webhook": (("url",), ("secret",)),
    "slack": (("url",), ()),
    "teams": (("url",), ()),
    "email": (("to",), ("subject",)),
    "rss": ((), ("title", "description")),
    "mastodon": (("instance_url", "access_token"), ("visibility",)),
    "x": (("bearer_token",), ("api_url",)),
}


@dataclass(frozen=True)
class Result:
    outcome: str
    http_status: int | None = None
    error: str = ""


@dataclass(frozen=True)
class Outgoing:
    """What a sender needs, read from the post before the attempt."""

    post_id: int
    attempt: int
    delivery_key: str
    channel_kind: str
    channel_name: str
    config: dict
    text: str
    event: str
    ticket_number: str = ""
    recipient: str = ""


def _timeout() -> httpx.Timeout:
    return httpx.Timeout(settings.POLICIES_HTTP_TIMEOUT, connect=settings.POLICIES_CONNECT_TIMEOUT)


def _post_json(url: str, payload: dict, headers: dict | None = None) -> Result:
    """One POST through the address guard (servicedesk.safe_urls); redirects are not followed.

    What is recorded is generic: the network error itself would tell which ports answer where."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    try:
        with safe_urls.client(timeout=_timeout(), follow_redirects=False) as client:
            response = client.post(url, content=body, headers={"Content-Type": "application/json", **(headers or {})})
    except safe_urls.RefusedAddress as exc:
        logger.warning("outbound post refused: %s", exc)
        return Result(FAILED, error=safe_urls.GENERIC_ERROR)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        logger.info("outbound post did not connect: %s: %s", type(exc).__name__, exc)
        return Result(RETRY, error=safe_urls.GENERIC_ERROR)
    except (httpx.ReadTimeout, httpx.WriteTimeout, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
        logger.info("outbound post got no answer: %s: %s", type(exc).__name__, exc)
        return Result(AMBIGUOUS, error=NO_ANSWER)
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        logger.warning("outbound post to a bad address: %s", exc)
        return Result(FAILED, error=safe_urls.GENERIC_ERROR)
    except httpx.HTTPError as exc:
        logger.info("outbound post ended unclearly: %s: %s", type(exc).__name__, exc)
        return Result(AMBIGUOUS, error=NO_ANSWER)
    status = response.status_code
    if 200 <= status < 300:
        return Result(SENT, http_status=status)
    if status >= 500 or status == 429:
        return Result(RETRY, http_status=status, error=f"HTTP {status}")
    if 300 <= status < 400:
        return Result(FAILED, http_status=status, error=f"HTTP {status}: the target redirects; redirects are not followed.")
    return Result(FAILED, http_status=status, error=f"HTTP {status}")


def _webhook(out: Outgoing) -> Result:
    payload = {
        "text": out.text, "event": out.event, "channel": out.channel_name, "ticket": out.ticket_number or None,
        "delivery": out.delivery_key,
    }
    headers = {"X-Servicedesk-Delivery": out.delivery_key}
    secret = out.config.get("secret")
    if secret:
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers["X-Servicedesk-Signature"] = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return _post_json(out.config["url"], payload, headers)


def _slack(out: Outgoing) -> Result:
    payload = {"text": out.text}
    # A reply to a chat thread: the recipient is "<channel>/<thread ts>" (see intake).
    thread_ts = out.recipient.rsplit("/", 1)[-1] if "/" in out.recipient else ""
    if thread_ts:
        payload["thread_ts"] = thread_ts
    return _post_json(out.config["url"], payload)


def _teams(out: Outgoing) -> Result:
    return _post_json(out.config["url"], {"text": out.text})


def _mastodon(out: Outgoing) -> Result:
    base = out.config["instance_url"].rstrip("/")
    return _post_json(
        f"{base}/api/v1/statuses",
        {"status": out.text, "visibility": out.config.get("visibility", "public")},
        # Mastodon drops a second status with the same key: a retry cannot double-post.
        {"Authorization": f"Bearer {out.config['access_token']}", "Idempotency-Key": out.delivery_key},
    )


def _x(out: Outgoing) -> Result:
    url = out.config.get("api_url") or "https://api.x.com/2/tweets"
    return _post_json(url, {"text": out.text}, {"Authorization": f"Bearer {out.config['bearer_token']}"})


def _email(out: Outgoing) -> Result:
    to = [out.recipient] if out.recipient else list(out.config.get("to") or [])
    subject = one_line(out.config.get("subject")) or "Service Desk update"
    try:
        connection = get_connection(fail_silently=False, timeout=settings.POLICIES_HTTP_TIMEOUT)
        EmailMessage(subject=subject, body=out.text, to=to, headers={"X-Servicedesk-Delivery": out.delivery_key},
                     connection=connection).send(fail_silently=False)
    except (ConnectionRefusedError, smtplib.SMTPConnectError) as exc:
        return Result(RETRY, error=f"{type(exc).__name__}: {exc}")
    except smtplib.SMTPRecipientsRefused as exc:
        return Result(FAILED, error=f"{type(exc).__name__}: {exc}")
    except (socket.timeout, TimeoutError, smtplib.SMTPServerDisconnected) as exc:
        return Result(AMBIGUOUS, error=f"{type(exc).__name__}: {exc}")
    except OSError as exc:
        return Result(RETRY, error=f"{type(exc).__name__}: {exc}")
    return Result(SENT)


def _rss(out: Outgoing) -> Result:
    # The status feed is served by the product itself: once marked sent, it is in the feed.
    return Result(SENT)


SENDERS = {
    "webhook": _webhook, "slack": _slack, "teams": _teams, "mastodon": _mastodon, "x": _x, "email": _email, "rss": _rss,
}


def send(out: Outgoing) -> Result:
    sender = SENDERS.get(out.channel_kind)
    if sender is None:
        return Result(FAILED, error=f"unknown channel kind {out.channel_kind}")
    try:
        return sender(out)
    except KeyError as exc:
        return Result(FAILED, error=f"the channel's configuration lacks {exc}")


def masked_config(config: dict) -> dict:
    """For pages: secrets shown as set, never shown."""
    return {k: ("••••••••" if k in SECRET_KEYS and v else v) for k, v in (config or {}).items()}


def public_config(config: dict) -> dict:
    """For the API: secrets are write-only, so they are left out."""
    return {k: v for k, v in (config or {}).items() if k not in SECRET_KEYS}
