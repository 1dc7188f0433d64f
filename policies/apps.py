from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    name = "policies"

    def ready(self):
        from feeds import preference_extras

        from . import selectors, subscribers

        subscribers.subscribe_all()
        preference_extras.register(
            "external_channel", payload=selectors.external_channel_payload, save=subscribers.save_external_channel
        )

        from servicedesk import hooks

        from . import home, services

        hooks.subscribe(hooks.home_sections, home.home_sections)

        hooks.subscribe(hooks.ticket_public_update, services.chat_thread_update)
