"""`{% form_field bound_field %}`: one labelled control (label, hint, error, control), in Python.

Every form in the product lays its fields out this way. As an included template it cost about
70 µs a field (the include, a new context, a dozen lookups), eight times on every ticket page.
Django adds aria-invalid and points aria-describedby at "<id>_helptext" / "<id>_error", the ids
written here. Loaded as a template builtin.
"""
from __future__ import annotations

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

register = template.Library()

OPTIONAL = ' <span class="optional">(optional)</span>'


@register.simple_tag
def form_field(field, hide_optional: bool = False):
    errors = field.errors
    optional = "" if field.field.required or hide_optional else OPTIONAL
    parts = [
        f'<div class="field{" has-error" if errors else ""}">',
        f'<label for="{conditional_escape(field.id_for_label)}">{conditional_escape(field.label)}{optional}</label>',
    ]
    if field.help_text:
        parts.append(f'<p class="help" id="{conditional_escape(field.auto_id)}_helptext">{conditional_escape(field.help_text)}</p>')
    if errors:
        joined = " ".join(conditional_escape(error) for error in errors)
        parts.append(f'<p class="field-error" id="{conditional_escape(field.auto_id)}_error">{joined}</p>')
    parts.append(conditional_escape(field))
    parts.append("</div>")
    return mark_safe("\n".join(parts))  # every value is escaped above; the control is Django's own
