"""A person's standing (points, level, badges) as other apps show it, without knowing who keeps it.

The app that keeps the ledger provides it from its ``AppConfig.ready()`` (``provide(fn)``);
``fn(users)`` returns ``{user_id: standing}`` in a fixed number of queries. With no provider every
person stands at the start: no points, level 1, no badges.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field


@dataclass
class Standing:
    points: int = 0
    level: int = 1
    badges: list[dict] = field(default_factory=list)


_provider: Callable[[Iterable], dict] | None = None


def provide(fn: Callable[[Iterable], dict]) -> None:
    global _provider
    _provider = fn


def standing_for(users: Iterable) -> dict:
    users = list(users)
    if _provider is None:
        return {u.pk: Standing() for u in users}
    return _provider(users)
