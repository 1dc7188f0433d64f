from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from feeds import streams

        from .models import User

        def may_see_person(viewer, username: str) -> bool:
            return viewer.is_authenticated and User.objects.filter(username=username, is_active=True).exists()

        streams.register("user", may_see_person)
