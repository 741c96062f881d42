"""The per-project websocket feed. Read-only: client actions go through the REST API.

Close codes (docs/SECURITY.md#live-feed; the browser client acts on them in
frontend/src/realtime/project-feed.ts):

- 4400: too many malformed frames in a short window (each one is answered with a `feed.error` first)
- 4401: the socket's sign-in ended (sign-out of that session, password change, account deactivated)
- 4403: access to the project was revoked while connected (removed from it or its organisation)
- 4404: not a member of the project (or no such project); nothing was sent
- 4429: the user already has REALTIME_MAX_SOCKETS_PER_USER feed sockets open
"""

import asyncio
import json
import logging
import time
from collections import deque
from importlib import import_module

from channels.auth import get_user
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from core.realtime import (
    SLOT_REFRESH_SECONDS,
    project_group,
    socket_slot_acquire,
    socket_slot_refresh,
    socket_slot_release,
    user_group,
)

from . import access, events

logger = logging.getLogger(__name__)

CLOSE_BAD_FRAMES = 4400
CLOSE_SIGNED_OUT = 4401
CLOSE_REVOKED = 4403
CLOSE_NOT_FOUND = 4404  # the client stops reconnecting on this code
CLOSE_TOO_MANY_SOCKETS = 4429

CLIENT_MESSAGE_TYPES = frozenset({"ping"})  # answered with {"type": "pong"}; the feed is otherwise one-way


class ProjectFeedConsumer(AsyncJsonWebsocketConsumer):
    """Events of one project, filtered by the member's role (access.FEED_EVENT_AUDIENCE)."""

    role: str | None = None
    closing = False
    joined: tuple[str, ...] = ()
    slot: int | None = None
    refresher: asyncio.Task | None = None

    async def connect(self):
        self.project_id = int(self.scope["url_route"]["kwargs"]["project_id"])
        user = self.scope.get("user")
        self.role = await database_sync_to_async(access.feed_role)(user=user, project_id=self.project_id)
        if self.role is None:
            # Accept-then-close so the browser sees a code it can act on; nothing was sent.
            await self.accept()
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.user_id = user.pk
        self.bad_frames: deque[float] = deque()
        self.slot = await socket_slot_acquire(
            self.user_id, self.channel_name, settings.REALTIME_MAX_SOCKETS_PER_USER
        )
        if self.slot is None:
            await self.accept()
            limit = settings.REALTIME_MAX_SOCKETS_PER_USER
            await self._error(
                "too_many_sockets", f"At most {limit} live connections per person; close a tab."
            )
            await self.close(code=CLOSE_TOO_MANY_SOCKETS)
            return
        self.joined = (project_group(self.project_id), user_group(self.user_id))
        for group in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        self.refresher = asyncio.create_task(self._keep_slot())
        await self.send_json({"type": events.FEED_READY, "data": {"project_id": self.project_id}})

    async def disconnect(self, code):
        await self._leave()

    async def _leave(self) -> None:
        """Stop receiving: leave the groups, give the slot back. Idempotent."""
        self.closing = True
        if self.refresher is not None:
            self.refresher.cancel()
            self.refresher = None
        joined, self.joined = self.joined, ()
        for group in joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        if self.slot is not None:
            slot, self.slot = self.slot, None
            await socket_slot_release(self.user_id, slot, self.channel_name)

    async def _close(self, code: int, error: str, detail: str) -> None:
        if self.closing:
            return
        await self._leave()
        await self._error(error, detail)
        await self.close(code=code)

    async def _keep_slot(self) -> None:
        while True:
            await asyncio.sleep(SLOT_REFRESH_SECONDS)
            try:
                await socket_slot_refresh(self.user_id, self.slot, self.channel_name)
            except Exception:  # the cache is down: the slot expires, the socket stays useful
                logger.warning("feed socket slot refresh failed", exc_info=True)

    # --- frames from the client ----------------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        """The feed is one-way; a client may only `ping`. Anything else gets a `feed.error` and the
        socket stays open, until too many bad frames arrive within the window (then 4400)."""
        if self.closing:
            return
        if text_data is None:
            return await self._bad_frame("binary_frame", "The feed takes JSON text frames only.")
        try:
            content = json.loads(text_data)
        except (ValueError, RecursionError):
            return await self._bad_frame("invalid_json", "The frame is not valid JSON.")
        kind = content.get("type") if isinstance(content, dict) else None
        if kind not in CLIENT_MESSAGE_TYPES:
            return await self._bad_frame("unknown_type", 'Clients may only send {"type": "ping"}.')
        await self.send_json({"type": "pong", "data": {}})

    async def _bad_frame(self, code: str, detail: str) -> None:
        now = time.monotonic()
        window = settings.REALTIME_BAD_FRAMES_WINDOW_SECONDS
        while self.bad_frames and self.bad_frames[0] <= now - window:
            self.bad_frames.popleft()
        self.bad_frames.append(now)
        if len(self.bad_frames) > settings.REALTIME_MAX_BAD_FRAMES:
            await self._close(
                CLOSE_BAD_FRAMES,
                "too_many_bad_frames",
                f"More than {settings.REALTIME_MAX_BAD_FRAMES} bad frames.",
            )
            return
        await self._error(code, detail)

    async def _error(self, code: str, detail: str) -> None:
        await self.send_json({"type": events.FEED_ERROR, "data": {"code": code, "detail": detail}})

    # --- messages from the channel layer -------------------------------------------------------------

    async def project_event(self, event):
        if self.closing or not access.feed_event_visible(role=self.role, event_type=event["event_type"]):
            return
        if event["event_type"] not in access.FEED_EVENT_AUDIENCE:
            logger.warning("feed event %r has no audience in projects.access; sent to managers only", event)
        await self.send_json({"type": event["event_type"], "data": event["data"]})

    async def feed_evict(self, event):
        """Membership, role, sign-in or password changed: check again who may hear what."""
        if self.closing:
            return
        session = self.scope.get("session")
        session_key = getattr(session, "session_key", None)
        if event.get("session_key") is not None:  # one session signed out
            if event["session_key"] == session_key:
                await self._close(CLOSE_SIGNED_OUT, "signed_out", "You signed out.")
            return
        user = await self._current_user(session_key)
        if user is None or user.pk != self.user_id:
            await self._close(CLOSE_SIGNED_OUT, "signed_out", "Your sign-in ended; sign in again.")
            return
        role = await database_sync_to_async(access.feed_role)(user=user, project_id=self.project_id)
        if role is None:
            await self._close(CLOSE_REVOKED, "access_revoked", "You no longer have access to this project.")
            return
        self.role = role  # events from now on follow the new role's visibility

    async def _current_user(self, session_key: str | None):
        """The user the socket's session belongs to now, read afresh (channels.auth.get_user checks the
        password hash and that the account is active); sockets without a session reload their user."""
        if session_key is not None:
            store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)
            user = await get_user({"session": store})
            return user if user.is_authenticated and user.is_active else None
        if "session" in self.scope:
            return None  # a socket signed in through a session that no longer has a key
        return await database_sync_to_async(self._reload_user)()

    def _reload_user(self):
        from django.contrib.auth import get_user_model

        return get_user_model().objects.filter(pk=self.user_id, is_active=True).first()
