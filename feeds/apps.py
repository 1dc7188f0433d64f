from django.apps import AppConfig


class FeedsConfig(AppConfig):
    name = "feeds"
    verbose_name = "Feeds and live updates"

    def ready(self):
        from servicedesk import hooks

        from . import home, people, signins, streams, walls

        hooks.subscribe(hooks.home_sections, home.home_sections)

        streams.register("tag", lambda user, key: bool(walls.TAG_RE.match(walls.normalise_tag(key))))
        streams.register("user", people.may_see_person)
        walls.register("user", people.person_wall)

        hooks.subscribe(hooks.signin_failures_repeated, signins.tell_owner_of_failures)
        hooks.subscribe(hooks.signin_from_new_device, signins.tell_owner_of_new_device)
