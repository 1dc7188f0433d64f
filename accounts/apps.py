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

        from feeds import walls
        from feeds.audience import SIGNED_IN, Audience
        from servicedesk.errors import NotVisible

        def person_wall(viewer, username: str) -> walls.Wall:
            person = User.objects.filter(username=username, is_active=True).only("pk", "username", "display_name").first()
            if person is None:
                raise NotVisible()
            return walls.Wall(
                type="user", key=person.username, title=person.display_name or person.username,
                audience=Audience.of(groups=[SIGNED_IN]), target_id=person.pk, url=f"/people/{person.username}/",
            )

        walls.register("user", person_wall)

        from django.contrib.auth.signals import user_logged_out

        user_logged_out.connect(_signed_out, dispatch_uid="accounts.live_sockets_on_sign_out")


def _signed_out(sender, request, user, **kwargs):
    """Django sends this before it flushes the session, so its key still names the sockets."""
    from .services import user_signed_out

    session = getattr(request, "session", None)
    user_signed_out(user=user, session_key=getattr(session, "session_key", None))
