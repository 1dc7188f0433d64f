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


# --- Updates a requester hears about (tickets) ---------------------------------------------


@hook
def ticket_public_update(*, ticket, actor, verb: str, summary: str, comment_id: int | None = None) -> None:
    """Fires when something happens on a ticket that its requester is told about: a public reply
    (verb "commented", with `comment_id`), a status change ("changed_status"), a reopening
    ("reopened") or an automatic closing ("closed"). Never for internal notes. Runs inside the
    ticket's transaction, after the change is saved; `actor` is None for the product itself."""
