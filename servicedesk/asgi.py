import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings.base")
django.setup(set_prefix=False)  # as get_asgi_application() does

from servicedesk.asgi_handler import ASGIHandler  # noqa: E402

django_asgi_app = ASGIHandler()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from feeds.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AuthMiddlewareStack(URLRouter(websocket_urlpatterns)),
    }
)
