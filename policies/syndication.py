"""The public status feed: what was posted to an RSS channel, as RSS 2.0 and Atom.

Only posts that passed the policies and were marked sent appear, with their final text; no
login is needed, since the channel's audience is whoever reads the feed."""
from __future__ import annotations

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import Http404
from django.utils.feedgenerator import Atom1Feed

from .models import Channel, OutboundPost, OutboundStatus

ITEMS = 50


class StatusRss(Feed):
    def get_object(self, request, slug: str):
        channel = Channel.objects.filter(slug=slug, kind=Channel.Kind.RSS, active=True).first()
        if channel is None:
            raise Http404
        return channel

    def title(self, channel):
        return channel.config.get("title") or f"{channel.name} · Service Desk status"

    def link(self, channel):
        return f"{settings.SITE_URL.rstrip('/')}/status/{channel.slug}/rss/"

    def description(self, channel):
        return channel.config.get("description") or "Service status updates."

    def items(self, channel):
        return OutboundPost.objects.filter(channel=channel, status=OutboundStatus.SENT).select_related("channel").order_by("-sent_at", "-id")[:ITEMS]

    def item_title(self, post):
        return post.text.splitlines()[0][:120] if post.text else "Update"

    def item_description(self, post):
        return post.text

    def item_link(self, post):
        return f"{settings.SITE_URL.rstrip('/')}/status/{post.channel.slug}/rss/#update-{post.pk}"

    def item_guid(self, post):
        return f"urn:uuid:{post.delivery_key}"

    item_guid_is_permalink = False

    def item_pubdate(self, post):
        return post.sent_at or post.created_at


class StatusAtom(StatusRss):
    feed_type = Atom1Feed
    subtitle = StatusRss.description
