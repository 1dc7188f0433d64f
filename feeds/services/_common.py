"""What every part of the feed services shares: object references and notification specs."""

from __future__ import annotations

from dataclasses import dataclass

OUTBOX_MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class ObjectRef:
    """What an activity is about: `ObjectRef("ticket", "42", "INC-000042 Printer on fire")`."""

    type: str
    key: str
    title: str = ""

    @property
    def stream(self) -> str:
        return f"{self.type}:{self.key}"


@dataclass(frozen=True)
class NotificationSpec:
    kind: str
    text: str
    url: str = ""
