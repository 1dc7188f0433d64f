"""Django's database sessions, read through a query compiled and prepared once.

Every signed-in request reads its session first; `SESSION_ENGINE = "accounts.sessions"`. Writes,
expiry and `clearsessions` are Django's own."""
from __future__ import annotations

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone

from servicedesk.prepared import prepared


@prepared(text_args=("session_key",))
def _session_by_key(*, session_key):
    return Session.objects.filter(session_key=session_key)


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        # An expired row reads as no session, as in Django's store (which compares in the query).
        found = _session_by_key.run(session_key=self.session_key) if self.session_key else []
        if found and found[0].expire_date > timezone.now():
            return found[0]
        self._session_key = None
        return None

    def exists(self, session_key):
        # Asked on every live account check of a socket opened with a session cookie.
        return bool(session_key) and bool(_session_by_key.run(session_key=session_key))
