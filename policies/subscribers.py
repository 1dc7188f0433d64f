"""The domain facts policies react to (see servicedesk/hooks.py): announcements of tickets on the
outbound channels and the DLP scan of text written inside the product. Handlers run inside the
transaction of the fact, so the outbound posts and flags commit with it."""

from servicedesk import hooks

from . import services


def announce_opened(*, ticket, actor) -> None:
    services.ticket_announce(ticket=ticket, change="opened", actor=actor)


def announce_status(*, ticket, actor, old_status) -> None:
    services.ticket_announce(ticket=ticket, change=ticket.status, actor=actor)


def announce_reply(*, ticket, comment, actor) -> None:
    services.ticket_announce(ticket=ticket, change="replied", actor=actor, ref=str(comment.pk))


def subscribe_all() -> None:
    hooks.subscribe(hooks.ticket_opened, announce_opened)
    hooks.subscribe(hooks.ticket_status_changed, announce_status)
    hooks.subscribe(hooks.ticket_replied, announce_reply)
    hooks.subscribe(hooks.text_written, services.text_scan)


def save_external_channel(*, actor, value) -> None:
    services.external_channel_set(actor=actor, channel_id=value)
