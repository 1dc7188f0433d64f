"""Reading one e-mail: the standard library's parser with the modern policy, nothing stored here."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr

import html2text
import nh3
from mailparser_reply import EmailReplyParser

TAG_RE = re.compile(r"\[((?:INC|REQ|PRB)-(\d{6}))\]")
_MSGID_RE = re.compile(r"<[^<>\s]+>")
_PRECEDENCE_BULK = {"bulk", "junk", "list", "auto_reply", "auto-reply"}


class Unreadable(Exception):
    """The message cannot be read (broken MIME); the reason is for the admins' list."""


@dataclass
class Part:
    filename: str
    content_type: str
    data: bytes
    inline: bool


@dataclass
class Parsed:
    message_id: str
    sender: str
    sender_name: str
    subject: str
    size: int
    headers: EmailMessage
    references: list[str] = field(default_factory=list)
    text: str = ""
    parts: list[Part] = field(default_factory=list)


def parse(raw: bytes) -> Parsed:
    try:
        msg = BytesParser(policy=policy.default).parsebytes(raw)
        message_id = _first_id(str(msg.get("Message-ID", "") or ""))
        sender_name, sender = parseaddr(str(msg.get("From", "") or ""))
        subject = " ".join(str(msg.get("Subject", "") or "").split())
    except Exception as exc:  # noqa: BLE001 - any header the parser chokes on
        raise Unreadable(f"The headers could not be read ({type(exc).__name__}).") from exc
    if not message_id:
        message_id = f"<sha256.{hashlib.sha256(raw).hexdigest()[:40]}@no-message-id>"
    references: list[str] = []
    for name in ("In-Reply-To", "References"):
        for value in msg.get_all(name, []) or []:
            references += _MSGID_RE.findall(str(value))
    return Parsed(
        message_id=message_id[:255], sender=sender.strip().lower(), sender_name=sender_name.strip(),
        subject=subject[:255], size=len(raw), headers=msg, references=references,
    )


def _first_id(value: str) -> str:
    found = _MSGID_RE.search(value)
    return found.group(0) if found else ""


def automatic_reason(msg: EmailMessage) -> str | None:
    """Why this is an automatic message we must not answer or import (None: a person wrote it)."""
    auto = str(msg.get("Auto-Submitted", "") or "").strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto[:40]}"
    precedence = str(msg.get("Precedence", "") or "").strip().lower()
    if precedence in _PRECEDENCE_BULK:
        return f"Precedence: {precedence[:40]}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"):
        if msg.get(name) is not None:
            return f"{name} header"
    if msg.get("List-Id") is not None or msg.get("List-Unsubscribe") is not None:
        return "mailing list"
    return None


def bounced_addresses(msg: EmailMessage) -> list[str] | None:
    """The recipients a delivery status notification reports as failed (None: not a DSN)."""
    if msg.get_content_type() != "multipart/report" or msg.get_param("report-type", "").lower() != "delivery-status":
        return None
    failed: list[str] = []
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        # The per-recipient fields are header blocks; the parser gives them as sub-messages.
        blocks = part.get_payload() if part.is_multipart() else []
        for block in blocks if isinstance(blocks, list) else []:
            action = str(block.get("Action", "") or "").strip().lower()
            recipient = str(block.get("Final-Recipient", "") or block.get("Original-Recipient", "") or "")
            if action == "failed" and recipient:
                address = recipient.split(";", 1)[-1].strip().strip("<>").lower()
                if "@" in address:
                    failed.append(address)
    return failed


def read_body(parsed: Parsed) -> None:
    """Fill in the text (from the text part, or sanitised HTML as text) and the attached parts."""
    msg = parsed.headers
    try:
        if msg.defects and any(type(d).__name__ in _FATAL_DEFECTS for d in msg.defects):
            raise Unreadable("Broken MIME structure: " + ", ".join(sorted({type(d).__name__ for d in msg.defects})))
        body = msg.get_body(preferencelist=("plain", "html"))
        text = ""
        if body is not None:
            content = body.get_content()
            text = _html_to_text(content) if body.get_content_type() == "text/html" else content
        parts = []
        for part in msg.walk():
            if part is body or part.is_multipart() or part.get_content_maintype() == "message":
                continue
            disposition = part.get_content_disposition()
            filename = part.get_filename()
            if disposition == "attachment" or filename or (part.get_content_maintype() == "image" and disposition != "attachment"):
                data = part.get_payload(decode=True) or b""
                parts.append(Part(
                    filename=(filename or f"inline.{part.get_content_subtype()}")[:200],
                    content_type=part.get_content_type(), data=data, inline=disposition != "attachment",
                ))
    except Unreadable:
        raise
    except Exception as exc:  # noqa: BLE001 - malformed MIME must never break a poll
        raise Unreadable(f"The message body could not be read ({type(exc).__name__}).") from exc
    parsed.text = text.replace("\r\n", "\n").strip()
    parsed.parts = parts


_FATAL_DEFECTS = {"NoBoundaryInMultipartDefect", "StartBoundaryNotFoundDefect", "MultipartInvariantViolationDefect",
                  "CloseBoundaryNotFoundDefect", "InvalidBase64CharactersDefect", "InvalidBase64PaddingDefect"}


def _html_to_text(html: str) -> str:
    clean = nh3.clean(html, tags={"p", "br", "div", "span", "a", "ul", "ol", "li", "strong", "em", "b", "i", "blockquote",
                                  "pre", "code", "h1", "h2", "h3", "h4", "table", "tr", "td", "th"})
    converter = html2text.HTML2Text()
    converter.body_width = 0
    converter.ignore_images = True
    return converter.handle(clean)


def new_text(text: str) -> str:
    """A reply without its quoted history and signature."""
    reply = EmailReplyParser(languages=["en", "de", "fr", "es", "nl", "it"]).parse_reply(text=text)
    return (reply or "").strip()


def recipients(msg: EmailMessage) -> list[str]:
    values = [str(v) for name in ("To", "Cc", "Delivered-To") for v in (msg.get_all(name, []) or [])]
    return [addr.lower() for _, addr in getaddresses(values) if addr]
