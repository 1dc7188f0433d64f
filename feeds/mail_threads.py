"""Notification e-mails that belong to a thread, so mail clients group them and a reply finds its way back.

A domain registers, for its object type, a function naming the tag a thread carries in its subject
(a ticket: "INC-000042"). Every notification e-mail gets a stable `Message-ID` (the same on a
retried delivery); one about a registered object also gets `In-Reply-To`/`References` to the
thread's root id (never sent itself, so every message of the thread points at the same parent),
a `Reply-To` of the desk's mailbox and the tag in its subject.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

_tags: dict[str, Callable[[str], str | None]] = {}


@dataclass(frozen=True)
class Thread:
    object_type: str
    object_key: str
    tag: str

    @property
    def root_id(self) -> str:
        return f"<{self.object_type}-{self.object_key}.thread@{settings.MAIL_DOMAIN}>"


def register(object_type: str, tag_for: Callable[[str], str | None]) -> None:
    """`tag_for(key)` answers the subject tag of that object, or None when it has no thread."""
    _tags[object_type] = tag_for


def thread_for(object_type: str, object_key: str) -> Thread | None:
    tag_for = _tags.get(object_type)
    if tag_for is None or not object_key:
        return None
    tag = tag_for(object_key)
    return Thread(object_type, object_key, tag) if tag else None


def message_id_for(delivery_key: str) -> str:
    """The Message-ID of one outbox delivery: stable, so a retried send is the same message."""
    digest = hashlib.sha256(delivery_key.encode()).hexdigest()[:20]
    return f"<sd.{digest}@{settings.MAIL_DOMAIN}>"


def is_ours(message_id: str) -> bool:
    """Whether a Message-ID was made by this desk (its own mail coming back in)."""
    value = (message_id or "").strip().lower()
    return value.endswith(f"@{settings.MAIL_DOMAIN.lower()}>") and (value.startswith("<sd.") or ".thread@" in value)


def thread_headers(thread: Thread | None) -> dict[str, str]:
    if thread is None:
        return {}
    return {"In-Reply-To": thread.root_id, "References": thread.root_id, "Reply-To": settings.MAIL_DESK_ADDRESS}


def subject_with_tag(subject: str, thread: Thread | None) -> str:
    if thread is None or f"[{thread.tag}]" in subject:
        return subject
    return f"[{thread.tag}] {subject}"
