"""The widgets and the `{% url %}` tag written for speed give exactly what Django's own give."""
import re

import pytest
from django import forms
from django.template import Context, Template, engines
from django.test import override_settings
from django.urls import NoReverseMatch, reverse

from servicedesk.templatetags import cached_url
from servicedesk.widgets import FastRadioSelect, FastSelect, FastTextarea

CHOICES = [("public", "Public reply"), ("internal", 'Internal "note" <b>')]


def form_class(textarea, radio, select):
    class ReplyForm(forms.Form):
        body = forms.CharField(label="Reply", max_length=50, help_text="Markdown works.",
                               widget=textarea(attrs={"rows": 5, "data-flag": True, "data-off": False}))
        reply_as = forms.ChoiceField(label="Send as", choices=CHOICES, initial="public", widget=radio)
        team = forms.ChoiceField(label="Team", choices=[("", "No team"), ("7", "Net & <Wi-Fi>")], required=False,
                                 widget=select)

    return ReplyForm


Fast = form_class(FastTextarea, FastRadioSelect, FastSelect)
Django = form_class(forms.Textarea, forms.RadioSelect, forms.Select)


@pytest.mark.parametrize("data", [None, {"body": 'It\'s <b>"broken"</b> & more', "reply_as": "internal", "team": "7"},
                                  {"body": "x" * 60, "reply_as": "nonsense"}])
def test_fast_widgets_write_what_djangos_templates_write(data):
    fast, django = Fast(data, auto_id="r_%s"), Django(data, auto_id="r_%s")
    if data:
        assert fast.is_valid() == django.is_valid()
    assert str(fast["body"]) == str(django["body"])
    assert [choice.tag() for choice in fast["reply_as"]] == [choice.tag() for choice in django["reply_as"]]
    assert [choice.tag(wrap_label=True) for choice in fast["reply_as"]] == [
        choice.tag(wrap_label=True) for choice in django["reply_as"]]
    # Django's select puts each option on a line of its own and the name first; the rest is the same.
    (fast_tag, _, fast_options), (django_tag, _, django_options) = (str(form["team"]).partition(">") for form in (fast, django))
    assert "".join(fast_options.split()) == "".join(django_options.split())
    assert sorted(re.findall(r'([\w-]+)(?:="([^"]*)")?', fast_tag)) == sorted(re.findall(r'([\w-]+)(?:="([^"]*)")?', django_tag))


def test_cached_url_reverses_like_django_and_fails_like_it():
    engine = engines["django"].engine
    assert "servicedesk.templatetags.cached_url" in engine.builtins
    template = engine.from_string("{% url 'tickets:detail' pk %}|{% url 'tickets:portal' %}")
    for pk in (1, 42, 42):
        assert template.render(Context({"pk": pk})) == f"{reverse('tickets:detail', args=[pk])}|{reverse('tickets:portal')}"
    with pytest.raises(NoReverseMatch):
        engine.from_string("{% url 'tickets:detail' %}").render(Context({}))
    # `as var` keeps Django's quiet failure.
    assert engine.from_string("{% url 'no-such-view' as missing %}[{{ missing }}]").render(Context({})) == "[]"


def test_cached_url_follows_the_script_prefix_and_urlconf():
    from django.urls import set_script_prefix

    set_script_prefix("/desk/")
    try:
        assert cached_url.cached_reverse("tickets:portal").startswith("/desk/")
    finally:
        set_script_prefix("/")
    assert not cached_url.cached_reverse("tickets:portal").startswith("/desk/")
    with override_settings(ROOT_URLCONF="tests.servicedesk.urls_empty"):
        with pytest.raises(NoReverseMatch):
            cached_url.cached_reverse("tickets:portal")


def test_unhashable_arguments_are_reversed_every_time():
    class Unhashable:
        __hash__ = None

        def __str__(self):
            return "5"

    before = cached_url._reverse.cache_info().currsize
    assert Template("{% url 'tickets:detail' pk %}").render(Context({"pk": Unhashable()})) == reverse("tickets:detail", args=[5])
    assert cached_url._reverse.cache_info().currsize == before


def test_urls_built_from_their_shape_are_those_reverse_gives():
    from django.urls import get_resolver

    names = [name for name in get_resolver().reverse_dict if isinstance(name, str)]
    for namespace, (prefix, sub) in get_resolver().namespace_dict.items():
        names += [f"{namespace}:{name}" for name in sub.reverse_dict if isinstance(name, str)]
    checked = 0
    for name in names:
        for ids in ([7], [123456], [0], [7, 9]):
            try:
                expected = reverse(name, args=ids)
            except NoReverseMatch:
                continue
            assert cached_url.cached_reverse(name, args=ids) == expected, (name, ids)
            checked += 1
    assert checked > 50


def test_routes_that_limit_or_reshape_their_numbers_are_reversed_each_time():
    with override_settings(ROOT_URLCONF="tests.servicedesk.urls_shapes"):
        assert cached_url.cached_reverse("year", args=[2026]) == "/year/2026/"
        with pytest.raises(NoReverseMatch):
            cached_url.cached_reverse("year", args=[20261])
        assert cached_url.cached_reverse("item-part", args=[3, 44]) == "/item/3/part/44/"
        assert cached_url.cached_reverse("item-part", args=[44, 3]) == "/item/44/part/3/"
        assert cached_url.cached_reverse("person", args=[12]) == "/person/12/"
        assert cached_url.cached_reverse("person", args=["a b"]) == reverse("person", args=["a b"])
        with pytest.raises(NoReverseMatch):
            cached_url.cached_reverse("item-part", args=[-1, 2])


def test_a_page_reads_the_urlconf_once_and_each_request_its_own():
    from django.template import RequestContext
    from django.test import RequestFactory

    engine = engines["django"].engine
    template = engine.from_string("{% url 'tickets:detail' 5 %}")
    request = RequestFactory().get("/")
    assert template.render(RequestContext(request)) == reverse("tickets:detail", args=[5])
    assert request._url_frame == (("servicedesk.urls", "/"), None)
    with override_settings(ROOT_URLCONF="tests.servicedesk.urls_empty"):
        with pytest.raises(NoReverseMatch):
            template.render(RequestContext(RequestFactory().get("/")))
