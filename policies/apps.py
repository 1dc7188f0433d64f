from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    name = "policies"

    def ready(self):
        from servicedesk import hooks

        from . import services

        hooks.subscribe(hooks.ticket_public_update, services.chat_thread_update)
