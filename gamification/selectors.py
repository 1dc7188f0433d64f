"""Reads of people's standing. Points, levels and badges derive from the points ledger."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Standing:
    points: int = 0
    level: int = 1
    badges: list[dict] = field(default_factory=list)


def standing_for(users: Iterable) -> dict[int, Standing]:
    """Standing of each user, in one read whatever the number of users.

    No point rules exist yet, so nobody has earned anything: everyone starts at level 1.
    """
    return {user.pk: Standing() for user in users}
