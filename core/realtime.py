"""Websocket events: sent to a project's group only after the surrounding transaction commits."""

import json
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

logger = logging.getLogger(__name__)


def project_group(project_id: int) -> str:
    return f"project.{project_id}"


def broadcast(group: str, event_type: str, data: dict) -> None:
    """Send now. For code that runs outside a transaction (workers after their commit)."""
    payload = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    message = {"type": "project.event", "event_type": event_type, "data": payload}
    try:
        async_to_sync(get_channel_layer().group_send)(group, message)
    except Exception:  # a feed is best-effort: clients refetch on reconnect, no work is lost
        logger.exception("websocket broadcast %s to %s failed", event_type, group)


def broadcast_on_commit(group: str, event_type: str, data: dict) -> None:
    """Send `data` to every socket in `group` once the current transaction commits."""
    # Round-trip through JSON now, so a non-serializable payload fails at the call site.
    payload = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    transaction.on_commit(lambda: broadcast(group, event_type, payload))
