"""Single-use tickets for opening a live socket."""

from __future__ import annotations

from accounts.models import User
from servicedesk import ratelimit

from .. import live_tickets


def live_ticket_issue(*, user: User) -> str:
    """A single-use ticket for opening one live socket (see feeds.live_tickets): no database write."""
    ratelimit.consume(actor=user, action="live_ticket")
    return live_tickets.issue(user)


def live_ticket_redeem(*, key: str) -> User | None:
    """Spend a live ticket and answer whose it is: the active person it was issued to, if it is
    authentic, unexpired, unspent and their password has not changed since; None otherwise. One
    query (the account), then one Redis `SET NX` that spends it (only once the account admits it)."""
    from accounts.backends import active_user

    payload = live_tickets.read(key)
    if payload is None:
        return None
    user = active_user(payload["u"])
    if user is None or not live_tickets.matches(payload, user):
        return None
    return user if live_tickets.spend(payload) else None
