from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    name = "policies"

    def ready(self):
        from servicedesk import hooks

        from . import home

        hooks.subscribe(hooks.home_sections, home.home_sections)
