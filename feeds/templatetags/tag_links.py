"""Links for free-form tags (a person's expertise) that may not be valid hashtags."""
from urllib.parse import urlencode

from django import template
from django.urls import reverse

from feeds import walls

register = template.Library()


@register.filter
def tag_url(tag) -> str:
    """The tag's wall when the tag can have one ("vpn"); otherwise a community search for it
    ("c/c++", "ms office", "what?", "café"), whose query string is encoded, so that "/", "?",
    "#" and spaces keep to the query and never reach a URL pattern."""
    text = str(tag or "").strip()
    canonical = walls.normalise_tag(text)
    if walls.TAG_RE.match(canonical):
        return reverse("feeds:tag", args=[canonical])
    return f"{reverse('tickets:search')}?{urlencode({'tab': 'community', 'q': text})}"
