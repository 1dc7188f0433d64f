"""`{% url %}` with reversed URLs remembered per process.

A ticket page reverses about thirty URLs, at some 30 µs each in Django's resolver; the same few
views with the same ids come back on every view of the page. Loaded as a template builtin, so it
replaces Django's tag everywhere; the URL for given arguments is what `reverse` gives, keyed by
the URLconf and script prefix in force.
"""
from __future__ import annotations

from functools import lru_cache

from django import template
from django.conf import settings
from django.template import defaulttags
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape

register = template.Library()


@lru_cache(maxsize=8192)
def _reverse(urlconf, prefix, view_name, args, kwargs, current_app) -> str:
    return reverse(view_name, urlconf=urlconf, args=args, kwargs=dict(kwargs), current_app=current_app)


def cached_reverse(view_name, *, args=(), kwargs=None, current_app=None) -> str:
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    try:
        return _reverse(urlconf, get_script_prefix(), view_name, tuple(args), tuple(sorted((kwargs or {}).items())),
                        current_app)
    except TypeError:  # an unhashable argument: reverse it every time
        return reverse(view_name, urlconf=urlconf, args=args, kwargs=kwargs, current_app=current_app)


class CachedURLNode(defaulttags.URLNode):
    def render(self, context):
        if self.asvar:  # `{% url ... as var %}` keeps Django's behaviour, failures included
            return super().render(context)
        try:
            current_app = context.request.current_app
        except AttributeError:
            try:
                current_app = context.request.resolver_match.namespace
            except AttributeError:
                current_app = None
        url = cached_reverse(
            self.view_name.resolve(context),
            args=[arg.resolve(context) for arg in self.args],
            kwargs={name: value.resolve(context) for name, value in self.kwargs.items()},
            current_app=current_app,
        )
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser, token):
    node = defaulttags.url(parser, token)
    return CachedURLNode(node.view_name, node.args, node.kwargs, node.asvar)
