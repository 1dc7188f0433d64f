"""Walls: the followable things (people, tickets, services, communities, tags) and who may see them.

Each domain registers, for its type, a function that resolves a key for a viewer into a `Wall`
(title, normalised key, numeric id, audience of what is posted there) or raises NotVisible. The
same registry decides who may follow, post on, read and subscribe to each of them.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from servicedesk.errors import ApplicationError, Forbidden, NotVisible

from .audience import SIGNED_IN, Audience

TAG_RE = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,49}$")


@dataclass(frozen=True)
class Wall:
    type: str
    key: str
    title: str
    audience: Audience
    target_id: int | None = None
    url: str = ""
    # Why the viewer may read this wall but not post on it (e.g. removed from its community).
    posting_refused: str = ""

    @property
    def stream(self) -> str:
        return f"{self.type}:{self.key}"


_resolvers: dict[str, Callable[[object, str], Wall]] = {}


def register(wall_type: str, resolver: Callable[[object, str], Wall]) -> None:
    _resolvers[wall_type] = resolver


def types() -> list[str]:
    return sorted(_resolvers)


def resolve(viewer, wall_type: str, key) -> Wall:
    """The wall as `viewer` may see it; NotVisible for unknown types, keys and walls out of sight."""
    resolver = _resolvers.get(wall_type)
    if resolver is None:
        raise ApplicationError(
            "Unknown kind of wall.", errors={"type": [f"Choose one of {', '.join(types())}."]}
        )
    if not isinstance(key, (str, int)) or isinstance(key, bool) or not str(key).strip():
        raise ApplicationError("Say which one.", errors={"key": ["Give the id, username, slug or tag."]})
    if not getattr(viewer, "is_authenticated", False):
        raise NotVisible()
    return resolver(viewer, str(key).strip())


def require_posting(wall: Wall) -> None:
    if wall.posting_refused:
        raise Forbidden(wall.posting_refused)


def normalise_tag(raw: str) -> str:
    return raw.strip().lstrip("#").lower()


def _tag_wall(viewer, key: str) -> Wall:
    tag = normalise_tag(key)
    if not TAG_RE.match(tag):
        raise NotVisible()
    return Wall(type="tag", key=tag, title=f"#{tag}", audience=Audience.of(groups=[SIGNED_IN]), url=f"/tags/{tag}/")


register("tag", _tag_wall)
