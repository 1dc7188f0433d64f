"""The feed's part of every home: the latest notifications, grouped by what they point to."""
from __future__ import annotations

from . import selectors

RECENT = 8


def home_sections(*, user, sections: list) -> None:
    recent = list(selectors.notifications_for(user).select_related("activity")[:RECENT])
    sections.append({
        "order": 90, "column": "side", "template": "feeds/_home_notifications.html",
        "groups": selectors.notification_groups(recent)[:5],
    })
