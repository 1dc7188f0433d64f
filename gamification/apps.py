from django.apps import AppConfig


class GamificationConfig(AppConfig):
    name = "gamification"
    verbose_name = "Gamification"

    def ready(self):
        from feeds import streams

        # Leaderboard pages listen for "points changed" hints; the hint itself says nothing.
        streams.register("leaderboard", lambda user, key: key == "all" and getattr(user, "is_authenticated", False))

        from servicedesk import hooks

        from . import home

        hooks.subscribe(hooks.home_sections, home.home_sections)
