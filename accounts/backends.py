"""Django's model backend, with the user behind each signed-in request read through a query
compiled and prepared once (servicedesk/prepared.py). Signing in, permissions and the session's
password-hash check are Django's own."""
from __future__ import annotations

from django.contrib.auth import backends

from servicedesk.prepared import prepared

from .models import User


@prepared(args=("user_id",))
def _user_by_id(*, user_id):
    return User.objects.filter(pk=user_id)


def active_user(user_id) -> User | None:
    """The active person with this id, or None (a deactivated person is nobody, as in Django's backend)."""
    try:
        user_id = int(user_id)
    except (TypeError, ValueError):
        return None
    found = _user_by_id.run(user_id=user_id) if 0 < user_id < 2**63 else []
    return found[0] if found and found[0].is_active else None


class ModelBackend(backends.ModelBackend):
    def get_user(self, user_id):
        return active_user(user_id)
