"""How pages answer a refusal, in one place.

A service refuses with ``ApplicationError`` (``NotVisible`` and ``Forbidden`` among them). On a page,
404 hides what the caller may not see (the not-found page), 403 explains on the "You can't do
that here" page with a way back to the app's start. Views let such refusals propagate
(``if pages.refused(exc): raise``) and ``PageRefusalMiddleware`` answers them; any other error
the view shows where it came from (next to the form, as a message).

Each app names its way back once, in its views module::

    _forbidden = pages.forbidden_page("tickets", url_name="tickets:portal", label="Go to the portal")
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.handlers.exception import response_for_exception
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from .errors import ApplicationError

DEFAULT_MESSAGE = "You do not have permission to do this."
_back_links: dict[str, tuple[str, str]] = {}


def refused(exc: ApplicationError) -> bool:
    """True for the refusals a page answers by itself: not visible (404) or not allowed (403)."""
    return exc.status in (403, 404)


def _render_forbidden(request, message: str, back_url: str, back_label: str) -> HttpResponse:
    return render(request, "403.html", {"message": message, "back_url": back_url, "back_label": back_label}, status=403)


def forbidden_page(namespace: str, *, url_name: str, label: str) -> Callable[..., HttpResponse]:
    """Register the way back for the pages of ``namespace`` and return the function that renders
    its 403 page: ``f(request, message, back_url=None, back_label=None)``."""
    _back_links[namespace] = (url_name, label)

    def forbidden(request, message: str = DEFAULT_MESSAGE, back_url: str | None = None,
                  back_label: str | None = None) -> HttpResponse:
        return _render_forbidden(request, message, back_url or reverse(url_name), back_label or label)

    return forbidden


def _back_link(request) -> tuple[str, str]:
    match = getattr(request, "resolver_match", None)
    url_name, label = _back_links.get(match.namespace if match else "", ("home", "Go home"))
    return reverse(url_name), label


class PageRefusalMiddleware:
    """Answers a refusal that leaves a page view: 404 as the not-found page, 403 as the 403 page.

    The API's views never let one through (DRF's exception handler answers them), so this only
    sees pages."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, ApplicationError) or not refused(exception):
            return None
        if exception.status == 404:
            return response_for_exception(request, Http404(exception.message))
        return _render_forbidden(request, exception.message, *_back_link(request))
