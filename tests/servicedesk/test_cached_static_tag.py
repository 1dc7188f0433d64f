"""`{% static %}` is a builtin that remembers URLs, and gives what Django's tag gives."""
from __future__ import annotations

from django.template import Context, Template
from django.templatetags.static import static
from django.test import override_settings


def render(source: str) -> str:
    return Template(source).render(Context())


def test_the_builtin_gives_what_django_gives_and_keeps_as_var():
    assert render("{% static 'css/app.css' %}") == static("css/app.css")
    assert render("{% static 'css/app.css' %}") == render("{% load static %}{% static 'css/app.css' %}")
    assert render("{% static 'js/a b.js' as url %}[{{ url }}]") == f"[{static('js/a b.js')}]"


def test_a_changed_static_setting_is_not_answered_from_memory():
    before = render("{% static 'css/app.css' %}")
    with override_settings(STATIC_URL="/assets/"):
        assert render("{% static 'css/app.css' %}") == "/assets/css/app.css"
    assert render("{% static 'css/app.css' %}") == before
