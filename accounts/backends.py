"""Django's model backend, with the user behind each signed-in request read through a query
compiled and prepared once (servicedesk/prepared.py). Signing in, permissions and the session's
password-hash check are Django's own."""
from __future__ import annotations

from django.contrib.auth import backends

from .models import User
from .selectors import account_by_id


def active_user(user_id) -> User | None:
    """The active person with this id, or None (a deactivated person is nobody, as in Django's backend)."""
    user = account_by_id(user_id)
    return user if user is not None and user.is_active else None


class ModelBackend(backends.ModelBackend):
    def get_user(self, user_id):
        return active_user(user_id)
