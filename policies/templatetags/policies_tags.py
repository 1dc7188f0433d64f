from django import template

from policies import selectors
from policies.models import ExternalChannelPreference

register = template.Library()


@register.inclusion_tag("policies/_external_channel.html", takes_context=True)
def external_channel_preference(context):
    """The "where outside the product" choice on the notification settings page."""
    user = context["request"].user
    channels = list(selectors.offered_channels())
    current = ExternalChannelPreference.objects.filter(user=user).values_list("channel_id", flat=True).first()
    return {"channels": channels, "current": current, "csrf_token": context.get("csrf_token"), "show": bool(channels)}
