from django.apps import AppConfig


class FeedsConfig(AppConfig):
    name = "feeds"
    verbose_name = "Feeds and live updates"

    def ready(self):
        from servicedesk import hooks

        from . import home, streams, walls

        hooks.subscribe(hooks.home_sections, home.home_sections)

        streams.register("tag", lambda user, key: bool(walls.TAG_RE.match(walls.normalise_tag(key))))
