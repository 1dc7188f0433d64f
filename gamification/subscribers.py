"""What earns or loses points: the domain hooks this app subscribes to (see servicedesk/hooks.py).

Each handler is the service in ``gamification.services`` that writes the ledger entry; it runs inside
the transaction of the fact, so the entry commits with it.
"""

from servicedesk import hooks

from . import services


SUBSCRIPTIONS = [
    (hooks.like_added, services.like_received),
    (hooks.like_removed, services.like_withdrawn),
    (hooks.ticket_resolved, services.ticket_resolved),
    (hooks.ticket_reopened, services.ticket_reopened),
    (hooks.rating_recorded, services.rating_recorded),
    (hooks.deflection_recorded, services.deflection_recorded),
    (hooks.answer_voted, services.answer_voted),
    (hooks.answer_accepted, services.answer_accepted),
    (hooks.answer_unaccepted, services.answer_unaccepted),
    (hooks.article_published, services.article_published),
    (hooks.article_marked_helpful, services.article_marked_helpful),
    (hooks.content_removed, services.content_removed),
]


def subscribe_all() -> None:
    for hook, handler in SUBSCRIPTIONS:
        hooks.subscribe(hook, handler)
