"""Websocket routes collected from the apps (config/ is the top layer: it may know every app)."""

from projects.routing import websocket_urlpatterns as project_routes

websocket_urlpatterns = [*project_routes]
