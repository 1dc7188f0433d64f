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


class ModelBackend(backends.ModelBackend):
    def get_user(self, user_id):
        try:
            user_id = int(user_id)
        except (TypeError, ValueError):
            return None
        found = _user_by_id.run(user_id=user_id) if 0 < user_id < 2**63 else []
        # A deactivated person is nobody, as in Django's backend.
        return found[0] if found and self.user_can_authenticate(found[0]) else None
