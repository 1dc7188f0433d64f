"""What earns or loses points: the domain hooks this app subscribes to (see servicedesk/hooks.py).

Each handler is the service in ``gamification.services`` that writes the ledger entry; it runs inside
the transaction of the fact, so the entry commits with it.
"""

from servicedesk import hooks

from . import services


def subscribe_all() -> None:
    hooks.subscribe(hooks.like_added, services.like_received)
    hooks.subscribe(hooks.like_removed, services.like_withdrawn)
    hooks.subscribe(hooks.ticket_resolved, services.ticket_resolved)
    hooks.subscribe(hooks.ticket_reopened, services.ticket_reopened)
    hooks.subscribe(hooks.rating_recorded, services.rating_recorded)
    hooks.subscribe(hooks.deflection_recorded, services.deflection_recorded)
    hooks.subscribe(hooks.answer_voted, services.answer_voted)
    hooks.subscribe(hooks.answer_accepted, services.answer_accepted)
    hooks.subscribe(hooks.answer_unaccepted, services.answer_unaccepted)
    hooks.subscribe(hooks.article_published, services.article_published)
    hooks.subscribe(hooks.article_marked_helpful, services.article_marked_helpful)
    hooks.subscribe(hooks.content_removed, services.content_removed)
