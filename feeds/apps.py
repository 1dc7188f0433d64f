from django.apps import AppConfig


class FeedsConfig(AppConfig):
    name = "feeds"
    verbose_name = "Feeds and live updates"

    def ready(self):
        from . import streams, walls

        streams.register("tag", lambda user, key: bool(walls.TAG_RE.match(walls.normalise_tag(key))))
