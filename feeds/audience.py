"""Audiences: who may see an activity, decided by the service that writes it.

An audience is a set of user ids (who also receive the activity) plus named groups whose members
may see it where they look for it (a wall, a subscribed stream). Group membership comes from the
user's role and from providers other domains register (for example community membership).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from accounts.models import Role

SIGNED_IN = "signed_in"
AGENTS = "agents"
MANAGERS = "managers"
ADMINS = "admins"

_group_providers: list[Callable[[object], Iterable[str]]] = []
# provider -> the same answer for many people at once: {user id: groups}
_group_providers_many: dict[Callable, Callable[[list], dict[int, Iterable[str]]]] = {}


def register_group_provider(provider: Callable[[object], Iterable[str]],
                            many: Callable[[list], dict[int, Iterable[str]]] | None = None) -> None:
    """Let another domain add groups to a user (e.g. communities add "community:<slug>").
    `many(users)` answers for several people in one read; without it each is asked alone."""
    if provider not in _group_providers:
        _group_providers.append(provider)
    if many is not None:
        _group_providers_many[provider] = many


def _role_groups(user) -> set[str]:
    groups = {SIGNED_IN}
    if user.role in (Role.AGENT, Role.MANAGER, Role.ADMIN):
        groups.add(AGENTS)
    if user.role in (Role.MANAGER, Role.ADMIN):
        groups.add(MANAGERS)
    if user.role == Role.ADMIN:
        groups.add(ADMINS)
    return groups


def user_groups(user) -> frozenset[str]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    groups = _role_groups(user)
    for provider in _group_providers:
        groups.update(provider(user))
    return frozenset(groups)


def user_groups_many(users: Iterable) -> dict[int, frozenset[str]]:
    """`user_groups` of each of these people, by id, with one read per provider for all of them
    (the live sockets' account checks that fall due together)."""
    people = [u for u in users if getattr(u, "is_authenticated", False) and u.is_active]
    groups = {u.pk: _role_groups(u) for u in people}
    for provider in _group_providers:
        many = _group_providers_many.get(provider)
        found = many(people) if many is not None else {u.pk: provider(u) for u in people}
        for user_id, extra in found.items():
            groups[user_id].update(extra)
    return {user_id: frozenset(g) for user_id, g in groups.items()}


@dataclass(frozen=True)
class Audience:
    users: frozenset[int] = field(default_factory=frozenset)
    groups: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, *, users: Iterable[int] = (), groups: Iterable[str] = ()) -> Audience:
        return cls(users=frozenset(int(u) for u in users), groups=frozenset(groups))

    def admits(self, *, user_id: int, groups: frozenset[str]) -> bool:
        return user_id in self.users or bool(self.groups & groups)

    def as_payload(self) -> dict:
        return {"users": sorted(self.users), "groups": sorted(self.groups)}

    @classmethod
    def from_payload(cls, payload: dict) -> Audience:
        return cls.of(users=payload.get("users", ()), groups=payload.get("groups", ()))

    def __bool__(self) -> bool:
        return bool(self.users or self.groups)
