"""Marks each rendered page with the newest activity and notification ids at the moment the
request started, before the view read anything, so the live client can `resume` from exactly
what the page shows: nothing written between the render and the socket's welcome is lost."""
from __future__ import annotations


from . import selectors

_SKIP = ("/api/", "/static/", "/media/", "/ws/", "/healthz")


class LiveMarksMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if request.method == "GET" and not request.path.startswith(_SKIP) and user is not None and user.is_authenticated:
            request.live_marks = selectors.page_marks(user)
        return self.get_response(request)
