"""The domain facts policies react to (see servicedesk/hooks.py): announcements of tickets on the
outbound channels and the DLP scan of text written inside the product. Handlers run inside the
transaction of the fact, so the outbound posts and flags commit with it."""

from servicedesk import hooks

from . import services


def announce_opened(*, ticket, actor) -> None:
    services.ticket_announce(ticket=ticket, change="opened")


def announce_resolved(*, ticket, actor) -> None:
    services.ticket_announce(ticket=ticket, change="resolved")


def announce_closed(*, ticket, actor) -> None:
    services.ticket_announce(ticket=ticket, change="closed")


def subscribe_all() -> None:
    hooks.subscribe(hooks.ticket_opened, announce_opened)
    hooks.subscribe(hooks.ticket_resolved, announce_resolved)
    hooks.subscribe(hooks.ticket_closed, announce_closed)
    hooks.subscribe(hooks.text_written, services.dlp_scan)


def save_external_channel(*, actor, value) -> None:
    services.external_channel_set(actor=actor, channel_id=value)
