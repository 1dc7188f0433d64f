"""`{% form_field %}` writes what the included template it replaced wrote."""
from __future__ import annotations

import re

from django import forms
from django.template import Context, Template

# The template component the tag replaced, as it was.
REFERENCE = Template("""<div class="field{% if field.errors %} has-error{% endif %}">
  <label for="{{ field.id_for_label }}">{{ field.label }}{% if not field.field.required and not hide_optional %} <span class="optional">(optional)</span>{% endif %}</label>
  {% if field.help_text %}<p class="help" id="{{ field.auto_id }}_helptext">{{ field.help_text }}</p>{% endif %}
  {% if field.errors %}<p class="field-error" id="{{ field.auto_id }}_error">{{ field.errors|join:" " }}</p>{% endif %}
  {{ field }}
</div>""")
TAG = Template("{% form_field field %}")
TAG_HIDING = Template("{% form_field field hide_optional=True %}")


class Sample(forms.Form):
    title = forms.CharField(label="Title <short>", max_length=5, help_text="Say it in <b>five</b> letters & no more.")
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea)
    level = forms.ChoiceField(label="Level", choices=[("1", "One & only"), ("2", "Two")], required=False)

    def clean_note(self):
        raise forms.ValidationError(["Not <this>.", "Nor that."])


def squeeze(html: str) -> str:
    return re.sub(r">\s+<", "><", html.strip())


def test_the_tag_writes_what_the_component_wrote_for_every_kind_of_field():
    for form in (Sample(), Sample(auto_id=False), Sample(data={"title": "far too long", "note": "x", "level": "3"})):
        for name in form.fields:
            field = form[name]
            assert squeeze(TAG.render(Context({"field": field}))) == squeeze(
                REFERENCE.render(Context({"field": field}))
            ), (name, form.auto_id)
            assert squeeze(TAG_HIDING.render(Context({"field": field}))) == squeeze(
                REFERENCE.render(Context({"field": field, "hide_optional": True}))
            ), (name, form.auto_id)


def test_labels_hints_and_errors_are_escaped():
    form = Sample(data={"title": "far too long", "note": "x"})
    html = TAG.render(Context({"field": form["note"]}))
    assert "Not &lt;this&gt;." in html and "<this>" not in html
    html = TAG.render(Context({"field": form["title"]}))
    assert "Title &lt;short&gt;" in html and "<b>five</b>" not in html
