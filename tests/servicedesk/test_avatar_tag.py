"""`{% avatar %}` writes what the included component it replaced wrote."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.template import Context, Template

# The template component the tag replaced, as it was.
REFERENCE = Template(
    '<span class="avatar{% if size %} avatar-{{ size }}{% endif %}" aria-hidden="true">{% if person.avatar %}'
    '<img src="{{ person.avatar.url }}" alt="">{% else %}{{ person.initials }}{% endif %}</span>'
)
TAG = Template('{% if size %}{% avatar person size %}{% else %}{% avatar person %}{% endif %}')


@pytest.mark.django_db
def test_the_tag_writes_what_the_component_wrote(make_user):
    people = [
        make_user("ann", display_name="Ann <b>O'Neil</b> & co"),
        make_user("zed", display_name=""),
        SimpleNamespace(avatar=SimpleNamespace(url='/media/a"b<c>.png'), initials="AB"),
        SimpleNamespace(avatar=None, initials="<X>"),
    ]
    for person in people:
        for size in ("", "sm", "lg"):
            context = {"person": person, "size": size}
            assert TAG.render(Context(context)) == REFERENCE.render(Context(context)), (person, size)
