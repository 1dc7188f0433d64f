from django.apps import AppConfig


class PeerAppConfig(AppConfig):
    name = "bench.peers.actstream_site.peerapp"
    label = "peerapp"

    def ready(self):
        from actstream import registry
        from django.contrib.auth import get_user_model

        registry.register(get_user_model(), self.get_model("Ticket"), self.get_model("Community"))
