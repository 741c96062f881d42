"""Websocket events: sent to a project's group only after the surrounding transaction commits."""

import json
import logging

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

logger = logging.getLogger(__name__)


def project_group(project_id: int) -> str:
    return f"project.{project_id}"


def _nobody_listens(layer, group: str) -> bool:
    """True when the in-process layer (embedded mode, tests) has no socket in `group`: its group_send
    would do nothing, and skipping it saves the event loop it would start outside a server."""
    return isinstance(layer, InMemoryChannelLayer) and not layer.groups.get(group)


def broadcast(group: str, event_type: str, data: dict) -> None:
    """Send now. For code that runs outside a transaction (workers after their commit)."""
    payload = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    message = {"type": "project.event", "event_type": event_type, "data": payload}
    try:
        layer = get_channel_layer()
        if layer is None or _nobody_listens(layer, group):
            return
        async_to_sync(layer.group_send)(group, message)
    except Exception:  # a feed is best-effort: clients refetch on reconnect, no work is lost
        logger.exception("websocket broadcast %s to %s failed", event_type, group)


def broadcast_on_commit(group: str, event_type: str, data: dict) -> None:
    """Send `data` to every socket in `group` once the current transaction commits."""
    # Round-trip through JSON now, so a non-serializable payload fails at the call site.
    payload = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    transaction.on_commit(lambda: broadcast(group, event_type, payload))


# --- Per-user control messages: evict a user's sockets so they re-check their access ----------------


def user_group(user_id: int) -> str:
    """Every feed socket of a user also joins this group, which carries control messages only."""
    return f"user.{user_id}"


def _send_control(user_id: int, message: dict) -> None:
    try:
        async_to_sync(get_channel_layer().group_send)(user_group(user_id), message)
    except Exception:  # best-effort like every event; the socket re-checks on its next reconnect
        logger.exception("websocket eviction of user %s failed", user_id)


def feed_evict_on_commit(user_id: int, *, reason: str, session_key: str | None = None) -> None:
    """After commit, make every open feed socket of `user_id` re-check access: sockets whose user may
    no longer see their project close (4403), sockets whose sign-in ended close (4401), the rest apply
    the user's current role. With `session_key` (sign-out), only that session's sockets close."""
    message = {"type": "feed.evict", "reason": reason, "session_key": session_key}
    transaction.on_commit(lambda: _send_control(user_id, message))


# --- Per-user socket slots, in the cache (Redis when deployed) so every web process counts -----------

SLOT_TTL_SECONDS = 120  # a slot not refreshed for this long is free again (a crashed process leaks none)
SLOT_REFRESH_SECONDS = 40


def _slot_key(user_id: int, index: int) -> str:
    return f"tessera:feed-slot:{user_id}:{index}"


async def socket_slot_acquire(user_id: int, channel_name: str, limit: int) -> int | None:
    """Claim one of the user's `limit` socket slots for `channel_name`; None when all are taken.
    `cache.add` is atomic (SET NX on Redis), so concurrent connects never share a slot."""
    from django.core.cache import cache

    for index in range(limit):
        if await cache.aadd(_slot_key(user_id, index), channel_name, timeout=SLOT_TTL_SECONDS):
            return index
    return None


async def socket_slot_refresh(user_id: int, index: int, channel_name: str) -> None:
    from django.core.cache import cache

    key = _slot_key(user_id, index)
    if await cache.aget(key) in (None, channel_name):  # expired meanwhile: take it back
        await cache.aset(key, channel_name, timeout=SLOT_TTL_SECONDS)


async def socket_slot_release(user_id: int, index: int, channel_name: str) -> None:
    from django.core.cache import cache

    key = _slot_key(user_id, index)
    if await cache.aget(key) == channel_name:
        await cache.adelete(key)
