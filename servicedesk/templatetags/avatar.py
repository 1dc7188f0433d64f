"""`{% avatar person size %}`: a person's picture or initials, beside their name.

Lists of comments, members and followers show one per row; as an included template each cost
about 60 µs (the include, a new context and four lookups). Decorative: the name is always shown
next to it, so it is hidden from assistive technology. Loaded as a template builtin.
"""
from __future__ import annotations

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag
def avatar(person, size: str = "") -> str:
    css = f"avatar avatar-{conditional_escape(size)}" if size else "avatar"
    picture = getattr(person, "avatar", None)
    if picture:
        inner = f'<img src="{conditional_escape(picture.url)}" alt="">'
    else:
        inner = conditional_escape(getattr(person, "initials", ""))
    return mark_safe(f'<span class="{css}" aria-hidden="true">{inner}</span>')  # every value is escaped
