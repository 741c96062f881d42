"""The project feed consumer: eviction on membership, role, sign-out and password changes; events
filtered by role; malformed frames; the per-user socket cap. In-memory layer, real sessions; the
same behaviour on Redis in a real server is in tests/integration/test_feed_redis.py."""

import ast
import json
import re
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.core.cache import cache
from django.test import Client

from core.realtime import broadcast, project_group
from projects import access, services
from projects.models import ProjectMembership
from projects.routing import websocket_urlpatterns

from ..factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
# The documented close codes (docs/SECURITY.md#live-feed), written out: clients depend on them.
CLOSE_BAD_FRAMES = 4400
CLOSE_SIGNED_OUT = 4401
CLOSE_REVOKED = 4403
CLOSE_TOO_MANY_SOCKETS = 4429


@pytest.fixture(autouse=True)
def _fresh_slots():
    cache.clear()  # socket slots live in the (local-memory) cache
    yield
    cache.clear()


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _feed(project_id: int, client: Client | None = None, user=None) -> WebsocketCommunicator:
    """A socket through the real session and auth middleware (with `client`'s cookie), or with a
    user put straight into the scope."""
    if client is not None:
        name = django_settings.SESSION_COOKIE_NAME
        cookie = f"{name}={client.cookies[name].value}"
        return WebsocketCommunicator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns)),
            f"/ws/projects/{project_id}/",
            headers=[(b"cookie", cookie.encode())],
        )
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/ws/projects/{project_id}/")
    communicator.scope["user"] = user
    return communicator


async def _open(communicator) -> None:
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    assert (await communicator.receive_json_from(timeout=5))["type"] == "feed.ready"


async def _closing(communicator) -> list:
    """Everything the server sent until it closed (JSON texts, then the close message)."""
    seen = []
    while True:
        output = await communicator.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            seen.append(("close", output.get("code")))
            return seen
        seen.append(("json", json.loads(output["text"])))


async def _next(communicator) -> str:
    """The next event's type, skipping the stats refresh every membership change also triggers."""
    while (event := await communicator.receive_json_from(timeout=5))["type"] == "project.stats_updated":
        pass
    return event["type"]


def _membership(people, user) -> ProjectMembership:
    return ProjectMembership.objects.get(project=people.project, user=user)


# --- membership and role changes ----------------------------------------------------------------


def test_removed_member_socket_closes_with_4403_and_hears_nothing_more(people):
    project = people.project
    membership_id = _membership(people, people.annotator).id

    async def scenario():
        removed, colleague = _feed(project.id, user=people.annotator), _feed(project.id, user=people.reviewer)
        await _open(removed)
        await _open(colleague)
        await sync_to_async(services.project_member_remove)(
            project=project, actor=people.manager, membership_id=membership_id
        )
        seen = await _closing(removed)
        await sync_to_async(services.project_update)(project=project, actor=people.manager, overlap=2)
        colleague_events = [await _next(colleague) for _ in range(2)]
        after = await removed.receive_nothing(timeout=0.3)
        await colleague.disconnect()
        return seen, colleague_events, after

    seen, colleague_events, quiet = async_to_sync(scenario)()

    # They hear their own removal (the labeling page says so), then the socket closes.
    assert [kind for kind, _ in seen] == ["json", "json", "close"]
    assert seen[0][1]["type"] == "member.removed"
    assert seen[1][1] == {
        "type": "feed.error",
        "data": {"code": "access_revoked", "detail": "You no longer have access to this project."},
    }
    assert seen[2] == ("close", CLOSE_REVOKED)
    assert colleague_events == ["member.removed", "project.updated"]
    assert quiet is True


def test_member_removed_from_the_organisation_is_evicted_from_every_project(people):
    org_membership = people.reviewer.org_memberships.get()

    async def scenario():
        socket = _feed(people.project.id, user=people.reviewer)
        await _open(socket)
        await sync_to_async(services.organisation_member_remove)(
            organisation=people.organisation, actor=people.org_admin, membership_id=org_membership.id
        )
        return await _closing(socket)

    assert async_to_sync(scenario)()[-1] == ("close", CLOSE_REVOKED)


def test_role_downgrade_stops_events_the_new_role_may_not_see(people):
    project = people.project
    membership_id = _membership(people, people.reviewer).id

    async def scenario():
        socket = _feed(project.id, user=people.reviewer)
        await _open(socket)
        await sync_to_async(broadcast)(
            project_group(project.id), "quality.updated", {"project_id": project.id}
        )
        before = (await socket.receive_json_from(timeout=5))["type"]
        await sync_to_async(services.project_member_change_role)(
            project=project,
            actor=people.manager,
            membership_id=membership_id,
            role="annotator",
        )
        role_event = await _next(socket)
        await sync_to_async(broadcast)(
            project_group(project.id), "quality.updated", {"project_id": project.id}
        )
        await sync_to_async(broadcast)(
            project_group(project.id), "import.finished", {"project_id": project.id}
        )
        await sync_to_async(broadcast)(project_group(project.id), "lease.expired", {"project_id": project.id})
        after = await _next(socket)
        quiet = await socket.receive_nothing(timeout=0.3)
        await socket.disconnect()
        return before, role_event, after, quiet

    before, role_event, after, quiet = async_to_sync(scenario)()

    assert before == "quality.updated"
    assert role_event == "member.role_changed"
    assert after == "lease.expired"  # still a member: the labeling page's events keep coming
    assert quiet is True


def test_role_upgrade_starts_events_of_the_new_role(people):
    project = people.project
    membership_id = _membership(people, people.annotator).id

    async def scenario():
        socket = _feed(project.id, user=people.annotator)
        await _open(socket)
        await sync_to_async(services.project_member_change_role)(
            project=project,
            actor=people.manager,
            membership_id=membership_id,
            role="manager",
        )
        assert await _next(socket) == "member.role_changed"
        await sync_to_async(broadcast)(
            project_group(project.id), "quality.updated", {"project_id": project.id}
        )
        event = await _next(socket)
        await socket.disconnect()
        return event

    assert async_to_sync(scenario)() == "quality.updated"


@pytest.mark.parametrize(
    ("role", "hears"),
    [
        ("org_admin", {"member.added", "quality.updated", "import.finished", "release.published"}),
        ("manager", {"member.added", "quality.updated", "import.finished", "release.published"}),
        ("reviewer", {"member.added", "quality.updated", "import.finished", "release.published"}),
        ("annotator", {"member.added"}),
    ],
)
def test_events_reach_only_roles_that_may_see_them(people, role, hears):
    project = people.project
    sent = ["member.added", "quality.updated", "import.finished", "release.published"]

    async def scenario():
        socket = _feed(project.id, user=people.by_role(role))
        await _open(socket)
        for event_type in sent:
            await sync_to_async(broadcast)(project_group(project.id), event_type, {"project_id": project.id})
        heard = set()
        while not await socket.receive_nothing(timeout=0.3):
            heard.add((await socket.receive_json_from())["type"])
        await socket.disconnect()
        return heard

    assert async_to_sync(scenario)() == hears


def _events_sent_in_the_code() -> set[str]:
    """Event names passed to broadcast()/broadcast_on_commit()/_announce() anywhere in the apps:
    string literals, or module-level constants they name."""
    import importlib

    names: set[str] = set()
    event = re.compile(r"^[a-z_]+\.[a-z_]+$")
    for app in ("accounts", "annotation", "core", "exports", "projects", "quality"):
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text())
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                func = (
                    node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                )
                if func not in {"broadcast", "broadcast_on_commit", "_announce"}:
                    continue
                for arg in node.args[:3]:
                    value = None
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        value = arg.value
                    elif isinstance(arg, ast.Name) and arg.id.isupper():
                        value = getattr(importlib.import_module(module), arg.id, None)
                    elif isinstance(arg, ast.Attribute) and arg.attr.isupper():  # events.MEMBER_ADDED
                        owner = vars(importlib.import_module(module)).get(ast.unparse(arg.value))
                        value = getattr(owner, arg.attr, None)
                    if isinstance(value, str) and event.match(value):
                        names.add(value)
    return names


def test_every_event_sent_in_the_code_has_an_audience():
    sent = _events_sent_in_the_code()

    assert len(sent) > 20  # the scan finds the events (it is not vacuously green)
    assert sent - set(getattr(access, "FEED_EVENT_AUDIENCE", {})) == set()


def test_an_event_without_an_audience_reaches_only_roles_that_see_everything():
    assert access.feed_event_visible(role="manager", event_type="made.up") is True
    assert access.feed_event_visible(role="annotator", event_type="made.up") is False


# --- sign-out and password change -----------------------------------------------------------------


def test_sign_out_closes_that_sessions_sockets_only(people):
    project = people.project
    laptop, phone = _signed_in(people.annotator), _signed_in(people.annotator)

    async def scenario():
        on_laptop, on_phone = _feed(project.id, laptop), _feed(project.id, phone)
        await _open(on_laptop)
        await _open(on_phone)
        response = await sync_to_async(laptop.post)("/logout/")
        seen = await _closing(on_laptop)
        still_open = await on_phone.receive_nothing(timeout=0.3)
        await sync_to_async(broadcast)(project_group(project.id), "lease.expired", {"project_id": project.id})
        event = (await on_phone.receive_json_from(timeout=5))["type"]
        await on_phone.disconnect()
        return response.status_code, seen, still_open, event

    status, seen, still_open, event = async_to_sync(scenario)()

    assert status == 302
    assert seen[-1] == ("close", CLOSE_SIGNED_OUT)
    assert still_open is True
    assert event == "lease.expired"


def test_password_change_closes_every_socket_of_the_account(people):
    project = people.project
    laptop, other = _signed_in(people.annotator), _signed_in(people.reviewer)

    async def scenario():
        mine, theirs = _feed(project.id, laptop), _feed(project.id, other)
        await _open(mine)
        await _open(theirs)
        response = await sync_to_async(laptop.post)(
            "/account/password/",
            {
                "old_password": PASSWORD,
                "new_password1": "a-new-Passw0rd-2026",
                "new_password2": "a-new-Passw0rd-2026",
            },
        )
        seen = await _closing(mine)
        quiet = await theirs.receive_nothing(timeout=0.3)
        await theirs.disconnect()
        # The tab that changed it still has a valid (renewed) session: its reconnect is accepted.
        again = _feed(project.id, laptop)
        await _open(again)
        await again.disconnect()
        return response.status_code, seen, quiet

    status, seen, quiet = async_to_sync(scenario)()

    assert status == 302
    assert seen[-1] == ("close", CLOSE_SIGNED_OUT)
    assert quiet is True


def test_deactivated_account_socket_closes(people):
    async def scenario():
        socket = _feed(people.project.id, user=people.annotator)
        await _open(socket)
        user = people.annotator
        user.is_active = False
        await sync_to_async(user.save)()
        return await _closing(socket)

    assert async_to_sync(scenario)()[-1] == ("close", CLOSE_SIGNED_OUT)


# --- frames from the client -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"text_data": "{not json"}, "invalid_json"),
        ({"text_data": "[" * 100_000}, "invalid_json"),
        ({"text_data": '{"type": "subscribe"}'}, "unknown_type"),
        ({"text_data": "[1, 2]"}, "unknown_type"),
        ({"bytes_data": b"\x00\x01"}, "binary_frame"),
    ],
)
def test_malformed_frame_gets_an_error_and_the_socket_stays_open(people, frame, code):
    async def scenario():
        socket = _feed(people.project.id, user=people.annotator)
        await _open(socket)
        if "text_data" in frame:
            await socket.send_to(text_data=frame["text_data"])
        else:
            await socket.send_to(bytes_data=frame["bytes_data"])
        error = await socket.receive_json_from(timeout=5)
        await socket.send_json_to({"type": "ping"})
        pong = await socket.receive_json_from(timeout=5)
        await socket.disconnect()
        return error, pong

    error, pong = async_to_sync(scenario)()

    assert error["type"] == "feed.error"
    assert error["data"]["code"] == code
    assert pong == {"type": "pong", "data": {}}


def test_too_many_malformed_frames_close_with_4400(people, settings):
    settings.REALTIME_MAX_BAD_FRAMES = 3

    async def scenario():
        socket = _feed(people.project.id, user=people.annotator)
        await _open(socket)
        for _ in range(4):
            await socket.send_to(text_data="garbage")
        return await _closing(socket)

    seen = async_to_sync(scenario)()

    errors = [payload["data"]["code"] for kind, payload in seen if kind == "json"]
    assert errors == ["invalid_json"] * 3 + ["too_many_bad_frames"]
    assert seen[-1] == ("close", CLOSE_BAD_FRAMES)


# --- sockets per user -----------------------------------------------------------------------------


def test_sockets_per_user_are_capped_and_a_closed_one_frees_its_slot(people, settings):
    settings.REALTIME_MAX_SOCKETS_PER_USER = 3
    project = people.project

    async def scenario():
        sockets = [_feed(project.id, user=people.annotator) for _ in range(3)]
        for socket in sockets:
            await _open(socket)
        extra = _feed(project.id, user=people.annotator)
        connected, _ = await extra.connect(timeout=5)
        refused = await _closing(extra)
        colleague = _feed(project.id, user=people.reviewer)  # the cap is per person
        await _open(colleague)
        await sockets[0].disconnect()
        again = _feed(project.id, user=people.annotator)
        await _open(again)
        for socket in [*sockets[1:], colleague, again]:
            await socket.disconnect()
        return connected, refused

    connected, refused = async_to_sync(scenario)()

    assert connected is True
    assert refused[0][1]["data"]["code"] == "too_many_sockets"
    assert refused[-1] == ("close", CLOSE_TOO_MANY_SOCKETS)


def test_an_admins_revocation_closes_every_socket_of_the_account(people):
    """accounts.signals.credentials_revoked (sign out everywhere, an admin's revocation) reaches the
    feed: the sockets re-check their sessions, which no longer sign anyone in."""
    from accounts.services import user_credentials_revoke

    project = people.project
    laptop, other = _signed_in(people.annotator), _signed_in(people.reviewer)

    async def scenario():
        mine, theirs = _feed(project.id, laptop), _feed(project.id, other)
        await _open(mine)
        await _open(theirs)
        await sync_to_async(user_credentials_revoke)(
            user=people.annotator, actor=people.org_admin, organisation_id=people.organisation.id
        )
        seen = await _closing(mine)
        quiet = await theirs.receive_nothing(timeout=0.3)
        await theirs.disconnect()
        return seen, quiet

    seen, quiet = async_to_sync(scenario)()

    assert seen[-1] == ("close", CLOSE_SIGNED_OUT)
    assert quiet is True
