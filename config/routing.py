"""Websocket routes collected from the apps."""

from projects.routing import websocket_urlpatterns as project_routes

websocket_urlpatterns = [*project_routes]
