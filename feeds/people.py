"""Who may see a person's stream and wall: any signed-in person, while the account is active.
Registered by ``FeedsConfig.ready``."""

from __future__ import annotations

from accounts.models import User
from servicedesk.errors import NotVisible

from . import walls
from .audience import SIGNED_IN, Audience


def may_see_person(viewer, username: str) -> bool:
    return viewer.is_authenticated and User.objects.filter(username=username, is_active=True).exists()


def person_wall(viewer, username: str) -> walls.Wall:
    person = User.objects.filter(username=username, is_active=True).only("pk", "username", "display_name").first()
    if person is None:
        raise NotVisible()
    return walls.Wall(
        type="user", key=person.username, title=person.display_name or person.username,
        audience=Audience.of(groups=[SIGNED_IN]), target_id=person.pk, url=f"/people/{person.username}/",
    )
