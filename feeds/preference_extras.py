"""Notification preferences kept by apps above feeds (policies: the external channel a closed
ticket is announced on), shown and saved through the notification-preferences API.

Each is provided from the owning app's ``AppConfig.ready()`` with ``register()``."""

from __future__ import annotations

from collections.abc import Callable

_extras: dict[str, tuple[Callable, Callable]] = {}


def register(field: str, *, payload: Callable, save: Callable) -> None:
    """``payload(user)`` returns the keys the API shows; ``save(actor=, value=)`` stores the
    preference named ``field`` when a request carries it (inside the request's transaction)."""
    _extras[field] = (payload, save)


def payload(user) -> dict:
    shown: dict = {}
    for show, _ in _extras.values():
        shown.update(show(user))
    return shown


def save(*, actor, values: dict) -> None:
    for field, (_, store) in _extras.items():
        if field in values:
            store(actor=actor, value=values[field])
