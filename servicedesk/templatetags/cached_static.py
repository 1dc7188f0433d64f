"""`{% static %}` with each file's URL remembered per process.

A page names about ten static files, each one a trip through the storage's URL building (some
20–30 µs, more with a manifest's hashed names) for an answer that cannot change while the process
runs: a manifest is read when the process starts. Loaded as a template builtin, so templates do
not `{% load static %}`; a settings change (tests) forgets the remembered URLs.
"""
from __future__ import annotations

from functools import lru_cache

from django import template
from django.core.signals import setting_changed
from django.templatetags.static import StaticNode

register = template.Library()

STATIC_SETTINGS = {"STATIC_URL", "STATIC_ROOT", "STORAGES", "STATICFILES_DIRS", "FORCE_SCRIPT_NAME"}


class CachedStaticNode(StaticNode):
    @classmethod
    def handle_simple(cls, path):
        return _url(path)


@lru_cache(maxsize=1024)
def _url(path: str) -> str:
    return StaticNode.handle_simple(path)


@register.tag("static")
def do_static(parser, token):
    return CachedStaticNode.handle_token(parser, token)


def _forget(*, setting, **kwargs):
    if setting in STATIC_SETTINGS:
        _url.cache_clear()


setting_changed.connect(_forget)
