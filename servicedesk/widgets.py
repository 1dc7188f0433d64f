"""Form widgets rendered in Python where Django's widget templates are too slow.

Django renders every <option> of a Select through a template (about 0.1 ms each); a list of a
hundred agents on every ticket page made that the largest cost of the page.
"""
from __future__ import annotations

import html

from django import forms
from django.forms.utils import flatatt
from django.utils.choices import BaseChoiceIterator
from django.utils.safestring import mark_safe


class ReadyChoices(BaseChoiceIterator):
    """Choices already in Django's normal form, a list of (value, label) pairs with plain labels.

    Setting a field's choices normalizes them twice (the field's, then the widget's), looking at
    every pair and every label; for the hundred agents a ticket page offers that was most of the
    cost of building its triage form. Django leaves a choice iterator as it is.
    """

    def __init__(self, pairs):
        self.pairs = list(pairs)

    def __iter__(self):
        return iter(self.pairs)

    def __len__(self):
        return len(self.pairs)


class FastSelect(forms.Select):
    def render(self, name, value, attrs=None, renderer=None):
        final = self.build_attrs(self.attrs, attrs or {})
        final["name"] = name
        selected = set(self.format_value(value))  # as Django's: no value selects the "" option
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


def _attrs(attrs: dict) -> str:
    """The attributes as Django's attrs.html writes them: True bare, False left out, the rest escaped."""
    return "".join(
        f" {name}" if value is True else f' {name}="{html.escape(str(value))}"'
        for name, value in attrs.items() if value is not False
    )


class FastTextarea(forms.Textarea):
    """The reply box on every ticket page, without a template per render."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        text = html.escape(str(widget["value"])) if widget["value"] else ""
        return mark_safe(f'<textarea name="{html.escape(name)}"{_attrs(widget["attrs"])}>\n{text}</textarea>')


class FastRadioSelect(forms.RadioSelect):
    """Radio buttons whose <input>s (each `choice.tag` in a template) are written in Python."""

    def _render(self, template_name, context, renderer=None):
        option = context["widget"]
        if template_name != self.option_template_name or option.get("wrap_label"):
            return super()._render(template_name, context, renderer)
        value = "" if option["value"] is None else f' value="{html.escape(str(option["value"]))}"'
        return mark_safe(f'<input type="{option["type"]}" name="{html.escape(option["name"])}"{value}{_attrs(option["attrs"])}>')
