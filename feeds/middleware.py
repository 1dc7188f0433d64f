"""Marks each rendered page with the newest activity and notification ids at the moment the
request started, before the view read anything, so the live client can `resume` from exactly
what the page shows: nothing written between the render and the socket's welcome is lost.

It also reads the notifications that point to what the person opens: a page before it renders
(so its badge is already right), an API read of one object once it answered 200."""
from __future__ import annotations

import re

from . import selectors, services

_SKIP = ("/api/", "/static/", "/media/", "/ws/", "/healthz")
# API reads of one object whose page notifications link to.
_API_OBJECT = re.compile(r"^/api/v1/(tickets|questions|posts|articles|communities)/[\w-]+/$")


class LiveMarksMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if request.method == "GET" and not request.path.startswith(_SKIP) and user is not None and user.is_authenticated:
            last_activity, last_notification, unread = selectors.page_marks(user)
            if unread:
                _, unread = services.notifications_mark_visited(actor=user, path=request.path, unread_before=unread)
            request.live_marks = (last_activity, last_notification, unread)
        response = self.get_response(request)
        if request.method == "GET" and response.status_code == 200 and _API_OBJECT.match(request.path):
            user = getattr(request, "user", None)  # DRF sets it on the request once authenticated
            if user is not None and user.is_authenticated:
                services.notifications_mark_visited(actor=user, path=request.path)
        return response
