"""`{% url %}` with reversed URLs remembered per process.

A ticket page reverses about thirty URLs, at some 30 µs each in Django's resolver; the same few
views with the same ids come back on every view of the page. Loaded as a template builtin, so it
replaces Django's tag everywhere; the URL for given arguments is what `reverse` gives, keyed by
the URLconf and script prefix in force. URLs that name an object by id are built from their
shape, remembered per view (a page's own ids rarely repeat).
"""
from __future__ import annotations

from functools import lru_cache

from django import template
from django.conf import settings
from django.template import defaulttags
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape

register = template.Library()


@lru_cache(maxsize=8192)
def _reverse(urlconf, prefix, view_name, args, kwargs, current_app) -> str:
    return reverse(view_name, urlconf=urlconf, args=args, kwargs=dict(kwargs), current_app=current_app)


# Stand-ins for whole-number arguments: no object has ids this large, and each is told apart.
STAND_IN = 7_319_046_285_000


@lru_cache(maxsize=1024)
def _shape(urlconf, prefix, view_name, count, current_app) -> tuple[str, ...] | None:
    """The URL around `count` whole-number arguments, as the literal pieces between them.

    Most URLs on a page name one object by id (a ticket's dozen actions), so a URL remembered per
    id is rarely asked for twice; its shape is. None where the shape does not hold for every id
    (a route that limits its digits, a converter that rewrites them): those are reversed each time.
    """
    stand_ins = [str(STAND_IN + index) for index in range(count)]
    try:
        url = reverse(view_name, urlconf=urlconf, args=[int(text) for text in stand_ins], current_app=current_app)
    except NoReverseMatch:
        return None
    pieces = []
    for text in stand_ins:
        before, found, url = url.partition(text)
        if not found or text in url:
            return None
        pieces.append(before)
    return (*pieces, url)


def cached_reverse(view_name, *, args=(), kwargs=None, current_app=None, frame=None) -> str:
    """`reverse`, remembered; `frame` is the (URLconf, script prefix) in force, where the caller has it."""
    urlconf, prefix = frame or _frame()
    if args and not kwargs and all(type(arg) is int and arg >= 0 for arg in args):
        pieces = _shape(urlconf, prefix, view_name, len(args), current_app)
        if pieces is not None:
            return "".join(piece for pair in zip(pieces, map(str, args)) for piece in pair) + pieces[-1]
    try:
        return _reverse(urlconf, prefix, view_name, tuple(args), tuple(sorted((kwargs or {}).items())),
                        current_app)
    except TypeError:  # an unhashable argument: reverse it every time
        return reverse(view_name, urlconf=urlconf, args=args, kwargs=kwargs, current_app=current_app)


def _frame() -> tuple[str, str]:
    return get_urlconf() or settings.ROOT_URLCONF, get_script_prefix()


def _current_app(request) -> str | None:
    try:
        return request.current_app
    except AttributeError:
        try:
            return request.resolver_match.namespace
        except AttributeError:
            return None


class CachedURLNode(defaulttags.URLNode):
    def render(self, context):
        if self.asvar:  # `{% url ... as var %}` keeps Django's behaviour, failures included
            return super().render(context)
        request = getattr(context, "request", None)
        # The URLconf, script prefix and current app are settled before a response is rendered;
        # read once per request (the URLconf and prefix sit behind context-local look-ups).
        known = getattr(request, "_url_frame", None)
        if known is None:
            known = (_frame(), _current_app(request))
            if request is not None:
                request._url_frame = known
        frame, current_app = known
        url = cached_reverse(
            self.view_name.resolve(context),
            args=[arg.resolve(context) for arg in self.args],
            kwargs={name: value.resolve(context) for name, value in self.kwargs.items()},
            current_app=current_app,
            frame=frame,
        )
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser, token):
    node = defaulttags.url(parser, token)
    return CachedURLNode(node.view_name, node.args, node.kwargs, node.asvar)
