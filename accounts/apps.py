from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from django.contrib.auth.signals import user_logged_out

        user_logged_out.connect(_signed_out, dispatch_uid="accounts.live_sockets_on_sign_out")


def _signed_out(sender, request, user, **kwargs):
    """Django sends this before it flushes the session, so its key still names the sockets."""
    from .services import user_signed_out

    session = getattr(request, "session", None)
    user_signed_out(user=user, session_key=getattr(session, "session_key", None))
