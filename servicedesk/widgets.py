"""Form widgets rendered in Python where Django's per-option templates are too slow.

Django renders every <option> of a Select through a template (about 0.1 ms each); a list of a
hundred agents on every ticket page made that the largest cost of the page.
"""
from __future__ import annotations

import html

from django import forms
from django.forms.utils import flatatt
from django.utils.safestring import mark_safe


class FastSelect(forms.Select):
    def render(self, name, value, attrs=None, renderer=None):
        final = self.build_attrs(self.attrs, attrs or {})
        final["name"] = name
        selected = {str(v) for v in (value if isinstance(value, (list, tuple)) else [value]) if v is not None}
        parts = [f"<select{flatatt(final)}>"]
        for option_value, label in self.choices:
            if isinstance(label, (list, tuple)):  # an <optgroup>
                parts.append(f'<optgroup label="{html.escape(str(option_value))}">')
                parts += [self._option(v, lab, selected) for v, lab in label]
                parts.append("</optgroup>")
            else:
                parts.append(self._option(option_value, label, selected))
        parts.append("</select>")
        return mark_safe("".join(parts))  # every value and label is escaped

    @staticmethod
    def _option(value, label, selected: set[str]) -> str:
        value = "" if value is None else str(value)
        chosen = " selected" if value in selected else ""
        return f'<option value="{html.escape(value)}"{chosen}>{html.escape(str(label))}</option>'
