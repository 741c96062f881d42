"""ASGI entry: HTTP goes to Django, websockets to the routes collected in config.routing."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
django_asgi_app = get_asgi_application()  # sets up Django before the consumers import models

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from config.routing import websocket_urlpatterns  # noqa: E402
from core.body_timeout import RequestBodyTimeoutMiddleware  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": RequestBodyTimeoutMiddleware(django_asgi_app),  # 408 for stalled or trickling bodies
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
