from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    name = "policies"

    def ready(self) -> None:
        from servicedesk import hooks

        from . import services

        hooks.subscribe(hooks.text_written, services.text_scan)
