from django.apps import AppConfig


class GamificationConfig(AppConfig):
    name = "gamification"
    verbose_name = "Gamification"

    def ready(self):
        from feeds import streams

        # Leaderboard pages listen for "points changed" hints; the hint itself says nothing.
        streams.register("leaderboard", lambda user, key: key == "all" and getattr(user, "is_authenticated", False))

        from accounts import standing

        from . import selectors, subscribers

        standing.provide(selectors.standing_for)
        subscribers.subscribe_all()

        from tickets.selectors import social_provider

        social_provider("standing", lambda viewer, person: selectors.standing_for([person])[person.pk])
        social_provider("influence", lambda viewer, person: selectors.influence_cached(person))

        from servicedesk import hooks

        from . import home

        hooks.subscribe(hooks.home_sections, home.home_sections)
