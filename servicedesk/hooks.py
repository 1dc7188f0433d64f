"""The catalogue of domain facts that other apps react to.

A domain that owns a fact calls its hook by name (``hooks.ticket_resolved(ticket=t, actor=a)``)
and never imports the apps that care; those apps subscribe from their ``AppConfig.ready()``
(``hooks.subscribe(hooks.ticket_resolved, award_resolution_points)``). Handlers run synchronously,
in the order they subscribed, inside the caller's transaction, so whatever they write commits or
rolls back with the fact itself; an exception in a handler propagates to the caller.

Every hook is declared below with ``@hook``: its keyword-only signature is the contract, its
docstring says when it fires and inside which transaction. Calling a hook with arguments that do
not match its signature raises ``TypeError`` before any handler runs.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

_catalogue: dict[str, "Hook"] = {}


class Hook:
    """A named fact; calling it runs every subscriber with the same keyword arguments."""

    def __init__(self, declaration: Callable[..., None]):
        functools.update_wrapper(self, declaration)
        self.name = declaration.__name__
        self.signature = inspect.signature(declaration)
        for parameter in self.signature.parameters.values():
            if parameter.kind is not inspect.Parameter.KEYWORD_ONLY:
                raise TypeError(f"hook {self.name}: parameter {parameter.name} must be keyword-only")
        self.handlers: list[Callable[..., Any]] = []

    def __call__(self, **kwargs: Any) -> None:
        self.signature.bind(**kwargs)
        for handler in list(self.handlers):
            handler(**kwargs)

    def __repr__(self) -> str:
        return f"<hook {self.name}>"


def hook(declaration: Callable[..., None]) -> Hook:
    if declaration.__name__ in _catalogue:
        raise ValueError(f"hook {declaration.__name__} is declared twice")
    declared = Hook(declaration)
    _catalogue[declared.name] = declared
    return declared


def subscribe(target: Hook | str, handler: Callable[..., Any]) -> None:
    """Run ``handler(**kwargs)`` whenever ``target`` fires; idempotent per handler."""
    declared = target if isinstance(target, Hook) else _catalogue.get(target)
    if declared is None or _catalogue.get(declared.name) is not declared:
        raise LookupError(f"no hook named {target!r} in servicedesk.hooks")
    if handler not in declared.handlers:
        declared.handlers.append(handler)


def catalogue() -> dict[str, Hook]:
    """Every declared hook by name (for the contract test and the README)."""
    return dict(_catalogue)


# --- The catalogue -------------------------------------------------------------------------
# Declarations only: each body is empty on purpose, the subscribers do the work.


# accounts: sign-in facts ------------------------------------------------------------------------


@hook
def signin_failures_repeated(*, user, failures: int) -> None:
    """Others kept failing to sign in to ``user``'s account (``failures`` wrong passwords in the
    window); fires at most once per window, from ``accounts.services.failed_signins_alert``,
    inside its transaction. Feeds tells the owner."""


@hook
def signin_from_new_device(*, record) -> None:
    """A successful sign-in (``LoginRecord``) came from a device the account never used; fires from
    ``accounts.services.signin_new_device_notify`` (the ``signin_check`` task), inside its
    transaction. Feeds tells the owner."""


@hook
def signin_reported(*, report) -> None:
    """Someone reported a sign-in as not theirs (``SecurityReport``, already saved); fires from
    ``accounts.services.signin_report`` inside its transaction. Tickets opens the private security
    incident, links it as ``report.ticket`` and alerts the admins."""


# feeds ------------------------------------------------------------------------------------------


@hook
def text_written(*, author, text: str, obj, field: str) -> None:
    """A person wrote or changed a text in the product: `obj` is the saved object (a ticket, a
    comment, a post, a question, an answer, an answer's comment, an article, an idea, a poll) and
    `field` names which of its texts (`title`, `description`, `body`, `question`...). Fires once
    per text, after the object is saved, inside the writing service's transaction. Subscribers
    may scan the text and warn; they never refuse it."""


@hook
def like_added(*, post, actor) -> None:
    """``actor`` liked ``post`` (the like and the new count are saved); fires from
    ``feeds.services.like_add`` inside its transaction. Gamification awards the author."""


@hook
def like_removed(*, post, actor) -> None:
    """``actor`` withdrew a like that existed; fires from ``feeds.services.like_remove`` inside its
    transaction. Gamification reverses the award."""


# tickets ----------------------------------------------------------------------------------------


@hook
def ticket_opened(*, ticket, actor) -> None:
    """A ticket was logged (``tickets.services.ticket_create``, after its first activity), inside
    the creating transaction. Policies announces public major incidents."""


@hook
def ticket_resolved(*, ticket, actor) -> None:
    """A ticket's status became resolved (``tickets.services.ticket_update``), inside its
    transaction. Gamification awards the resolver (the announcement follows ticket_status_changed)."""


@hook
def ticket_reopened(*, ticket, actor) -> None:
    """A resolved or closed ticket went back to an open status (``ticket_update`` or
    ``ticket_reopen``; ``actor`` may be None), inside that transaction. Gamification reverses the
    resolution award."""


@hook
def ticket_status_changed(*, ticket, actor, old_status: str) -> None:
    """A ticket's status changed from ``old_status`` to ``ticket.status``: by an agent
    (``ticket_update``), by a reopening (``ticket_reopen``) or by the stale sweep closing it
    (``ticket_close_stale``, ``actor`` None); inside that transaction. Policies tells the requester
    on the external channel they chose, announces public major incidents' resolution and updates
    the chat thread a ticket came from."""


@hook
def ticket_replied(*, ticket, comment, actor) -> None:
    """A public reply (not an internal note) was posted on a ticket (``tickets.services.comment_add``,
    after the comment is saved), inside that transaction. Policies tells the requester on the
    external channel they chose and updates the chat thread a ticket came from."""


@hook
def rating_recorded(*, rating, ticket) -> None:
    """The requester rated a resolution (``tickets.services.rating_create``), inside its
    transaction. Gamification awards the assignee for a good rating."""


@hook
def deflection_recorded(*, deflection) -> None:
    """The portal recorded what a person did with a suggestion (``deflection_record``), inside its
    transaction. Gamification awards the author of the article that answered them."""


# communities ------------------------------------------------------------------------------------


@hook
def answer_voted(*, vote, answer) -> None:
    """A vote on an answer was cast or changed (``communities.services.answer_vote``), inside its
    transaction. Gamification awards or adjusts the author's points."""


@hook
def answer_accepted(*, answer, actor, previous_answer_id) -> None:
    """The asker accepted ``answer`` (``answer_accept``; ``previous_answer_id`` is the answer it
    replaced, or None), inside its transaction. Gamification moves the acceptance award."""


@hook
def answer_unaccepted(*, answer) -> None:
    """The asker withdrew the acceptance of ``answer`` (``answer_unaccept``), inside its
    transaction. Gamification reverses the acceptance award."""


@hook
def article_published(*, article) -> None:
    """A knowledge article was published (``communities.services.article_create``), inside its
    transaction. Gamification awards the author."""


@hook
def article_marked_helpful(*, article, actor) -> None:
    """``actor`` marked an article helpful (``article_helpful``), inside its transaction.
    Gamification awards the author."""


@hook
def content_removed(*, kind: str, object_id: int) -> None:
    """A moderator removed a question, answer, article, idea or poll (``kind`` names which), inside
    the moderation transaction (``communities.services.content_remove``). Gamification reverses the points the content earned."""


# --- Role homes -------------------------------------------------------------------------------


@hook
def home_sections(*, user, sections: list) -> None:
    """Fires while ``user``'s home page is built (a GET, outside any transaction; read-only).

    Each subscriber appends the sections its app owns for the person's role to ``sections``:
    dicts ``{"order": int, "column": "main" | "side", "template": str, ...}`` whose other keys
    the template reads as ``section.<key>``, shown sorted by ``order``. A subscriber reads only what the person may see and spends a
    fixed number of queries whatever the data's size (the home's query budget is pinned).
    """


# --- Updates a requester hears about (tickets) ---------------------------------------------


@hook
def ticket_public_update(*, ticket, actor, verb: str, summary: str, comment_id: int | None = None) -> None:
    """Fires when something happens on a ticket that its requester is told about: a public reply
    (verb "commented", with `comment_id`), a status change ("changed_status"), a reopening
    ("reopened") or an automatic closing ("closed"). Never for internal notes. Runs inside the
    ticket's transaction, after the change is saved; `actor` is None for the product itself."""
