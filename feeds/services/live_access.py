"""Single-use tickets for opening a live socket."""

from __future__ import annotations

from accounts.models import User
from servicedesk import ratelimit

from .. import live_tickets


def live_ticket_issue(*, user: User) -> str:
    """A single-use ticket for opening one live socket (see feeds.live_tickets): no database write."""
    ratelimit.consume(actor=user, action="live_ticket")
    return live_tickets.issue(user)


def live_ticket_consume(*, key: str) -> bool:
    """Spend a live ticket: True once per ticket within its lifetime, False after (or if forged,
    expired or Redis cannot record the use)."""
    return live_tickets.spend(key)
