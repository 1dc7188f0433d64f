"""RSS 2.0 and Atom for walls that everyone signed in may see, behind a per-person secret link."""
from __future__ import annotations

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import Http404
from django.utils.feedgenerator import Atom1Feed

from servicedesk.errors import ApplicationError

from . import selectors, services, walls
from .audience import SIGNED_IN

OBJECT_URLS = {"ticket": "/tickets/{}/", "post": "/posts/{}/", "user": "/people/{}/", "service": "/services/{}/", "tag": "/tags/{}/"}


class WallRss(Feed):
    def get_object(self, request, token: str, wall_type: str, key: str):
        owner = services.feed_token_user(token)
        if owner is None:
            raise Http404
        try:
            wall = walls.resolve(owner, wall_type, key)
        except ApplicationError as exc:
            raise Http404 from exc
        if SIGNED_IN not in wall.audience.groups:
            raise Http404
        return wall

    def title(self, wall):
        return f"{wall.title} · Service Desk"

    def link(self, wall):
        return f"{settings.SITE_URL.rstrip('/')}{wall.url or '/'}"

    def description(self, wall):
        return f"What happens on {wall.title}."

    def items(self, wall):
        return selectors.open_stream_activities(stream=wall.stream)

    def item_title(self, activity):
        return activity.summary or activity.verb

    def item_description(self, activity):
        return activity.summary

    def item_link(self, activity):
        pattern = OBJECT_URLS.get(activity.object_type, "/")
        return f"{settings.SITE_URL.rstrip('/')}{pattern.format(activity.object_key)}#activity-{activity.pk}"

    def item_guid(self, activity):
        return f"{settings.SITE_URL.rstrip('/')}/activities/{activity.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, activity):
        return activity.created_at

    def item_author_name(self, activity):
        return activity.actor.display_name if activity.actor else "Service Desk"


class WallAtom(WallRss):
    feed_type = Atom1Feed
    subtitle = WallRss.description
