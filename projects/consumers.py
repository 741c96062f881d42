"""The per-project websocket feed. Read-only: client actions go through the REST API."""

from asgiref.sync import async_to_sync
from channels.generic.websocket import JsonWebsocketConsumer

from core.realtime import project_group

from . import access

CLOSE_NOT_FOUND = 4404  # the client stops reconnecting on this code


class ProjectFeedConsumer(JsonWebsocketConsumer):
    """Events of one project (settings, members, versions, stats; later issues add progress)."""

    def connect(self):
        project_id = int(self.scope["url_route"]["kwargs"]["project_id"])
        if not access.can_view_project(user=self.scope.get("user"), project_id=project_id):
            # Accept-then-close so the browser sees a code it can act on; nothing was sent.
            self.accept()
            self.close(code=CLOSE_NOT_FOUND)
            return
        self.group_name = project_group(project_id)
        async_to_sync(self.channel_layer.group_add)(self.group_name, self.channel_name)
        self.accept()
        self.send_json({"type": "feed.ready", "data": {"project_id": project_id}})

    def disconnect(self, code):
        if hasattr(self, "group_name"):
            async_to_sync(self.channel_layer.group_discard)(self.group_name, self.channel_name)

    def receive_json(self, content, **kwargs):
        """The feed is one-way; anything a client sends is ignored."""

    def project_event(self, event):
        self.send_json({"type": event["event_type"], "data": event["data"]})
