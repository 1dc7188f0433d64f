"""The policies' part of the homes: outbound posts held for review and data-loss flags awaiting
a decision, for the people who review them (admins first, managers too)."""
from __future__ import annotations

from accounts.models import Role, User

from . import selectors

SHOWN = 5


def home_sections(*, user: User, sections: list) -> None:
    if not selectors.can_review(user):
        return
    held = selectors.review_queue()
    flags = selectors.dlp_flags()
    sections.append({
        "order": 10 if user.role == Role.ADMIN else 50, "template": "policies/home/_review.html",
        "held": list(held[:SHOWN]), "held_count": held.count(),
        "flags": list(flags[:SHOWN]), "flag_count": flags.count(),
    })
