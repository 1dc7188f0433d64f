from django.apps import AppConfig


class GamificationConfig(AppConfig):
    name = "gamification"
    verbose_name = "Gamification"

    def ready(self):
        from feeds import streams

        # Leaderboard pages listen for "points changed" hints; the hint itself says nothing.
        streams.register("leaderboard", lambda user, key: key == "all" and getattr(user, "is_authenticated", False))

        from tickets.selectors import social_provider

        from . import selectors

        social_provider("standing", lambda viewer, person: selectors.standing_for([person])[person.pk])
        social_provider("influence", lambda viewer, person: selectors.influence_cached(person))
