"""`{% site_header %}`: the header and main navigation, rendered once per kind of page and kept.

Every page carries the same header: a dozen links, a role's menu, the person's name and unread
count. Rendered as a template it cost about 2 ms a page (a hundred conditions and lookups) for
markup that differs only by role and current page. It is rendered once per role, current view
and URL prefix, with marks where the person's own values go, and kept on the template object,
so that a changed template (the autoreloader drops the cached templates) is rendered anew. The
person's values are escaped here. Loaded as a template builtin.
"""
from __future__ import annotations

import re

from django import template
from django.conf import settings
from django.template.defaulttags import CsrfTokenNode
from django.urls import get_script_prefix, get_urlconf
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

register = template.Library()

TEMPLATE = "components/site_header.html"
MARK = "\ue000"  # a private-use character: no template output or escaping produces it
FIELDS = ("shown_name", "initials", "role_label", "search_q", "unread", "unread_label", "csrf_input")
SPLIT = re.compile(f"{MARK}(\\w+){MARK}")
KEPT_AT_MOST = 1024
_CSRF = CsrfTokenNode()


def _skeleton(header_template, flags: dict) -> list[str]:
    """The header's markup cut at each mark: literal, field name, literal, … (odd items are fields)."""
    marks = {name: mark_safe(f"{MARK}{name}{MARK}") for name in FIELDS}
    return SPLIT.split(header_template.render(template.Context({**flags, **marks, "csrf_token": ""})))


@register.simple_tag(takes_context=True)
def site_header(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    signed_in = bool(user is not None and user.is_authenticated)
    match = getattr(request, "resolver_match", None)
    flags = {
        "signed_in": signed_in,
        "view_name": match.view_name if match else "",
        "app_name": match.app_name if match else "",
    }
    if signed_in:
        flags.update(role=user.role, is_agent=user.is_agent, is_manager=user.is_manager, is_superuser=user.is_superuser)
    header_template = context.template.engine.get_template(TEMPLATE)
    kept = header_template.__dict__.setdefault("_site_header_skeletons", {})
    key = (get_urlconf() or settings.ROOT_URLCONF, get_script_prefix(), *sorted(flags.items()))
    parts = kept.get(key)
    if parts is None:
        if len(kept) >= KEPT_AT_MOST:
            kept.clear()
        parts = kept[key] = _skeleton(header_template, flags)
    values = _values(context, request, user) if signed_in else {}
    return mark_safe("".join(part if index % 2 == 0 else values[part] for index, part in enumerate(parts)))


def _values(context, request, user) -> dict[str, str]:
    shown_name = user.display_name or user.get_username()
    unread = context.get("unread_notifications") or 0
    return {
        "shown_name": conditional_escape(shown_name),
        "initials": conditional_escape(user.initials or shown_name[:1]),
        "role_label": conditional_escape(user.get_role_display() or user.role),
        "search_q": conditional_escape(request.GET.get("q", "")),
        "unread": conditional_escape(unread),
        "unread_label": conditional_escape(f"{unread} unread notification{'' if unread == 1 else 's'}"),
        "csrf_input": _CSRF.render(context),
    }
