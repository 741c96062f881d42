"""The live feed in a real uvicorn process on the real Redis channel layer (as deployed).

The unit tests use the in-memory layer, which hid that redis-py's default 5 s socket timeout killed
every idle socket on channels_redis's 5 s blocking read; these tests hold sockets open for real.
"""

import time
from contextlib import ExitStack

import pytest
from websockets.exceptions import ConnectionClosed

from accounts.services import api_token_create

from .conftest import _database_url
from .feed_server import api, asgi_server, open_feed, recv_json, session_cookie

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

IDLE_SECONDS = 60  # far beyond redis-py's 5 s default socket timeout and channels_redis's 5 s BZPOPMIN


@pytest.fixture
def feed_server(transactional_db, redis_url, isolated_names, tmp_path):
    with asgi_server(
        database_url=_database_url(),
        redis_url=redis_url,
        prefix=isolated_names["channels_prefix"],
        tmp_path=tmp_path,
    ) as (url, log_path):
        yield url, log_path


def _idle(ws, seconds: float, log_path) -> None:
    """Read nothing for `seconds`; fail if the server closes the socket or sends anything."""
    started = time.monotonic()
    while (left := started + seconds - time.monotonic()) > 0:
        try:
            message = ws.recv(timeout=min(left, 5))
        except TimeoutError:
            continue
        except ConnectionClosed as closed:
            elapsed = time.monotonic() - started
            log = log_path.read_text()[-3000:]
            pytest.fail(f"the idle feed closed after {elapsed:.1f} s ({closed!r}):\n{log}")
        pytest.fail(f"unexpected message on an idle feed: {message!r}")


def test_idle_feed_stays_open_and_still_receives_events(people, feed_server):
    url, log_path = feed_server
    project = people.project
    _, manager_key = api_token_create(user=people.manager, name="feed test")

    with open_feed(url, project.id, session_cookie(people.annotator)) as ws:
        assert recv_json(ws) == {"type": "feed.ready", "data": {"project_id": project.id}}
        _idle(ws, IDLE_SECONDS, log_path)

        status, _ = api(url, "PATCH", f"/api/projects/{project.id}/", manager_key, {"overlap": 2})
        assert status == 200
        event = recv_json(ws, timeout=10)

    assert event["type"] == "project.updated"
    assert event["data"]["fields"] == ["overlap"]
    assert "TimeoutError" not in log_path.read_text()


def _closed_with(ws, timeout: float = 10.0) -> tuple[list[dict], int | None]:
    """Messages until the server closes the socket, and its close code."""
    messages = []
    try:
        while True:
            messages.append(recv_json(ws, timeout=timeout))
    except ConnectionClosed as closed:
        return messages, closed.rcvd.code if closed.rcvd else None


def test_removed_member_socket_is_closed_with_4403_on_the_redis_layer(people, feed_server):
    url, _ = feed_server
    project = people.project
    _, manager_key = api_token_create(user=people.manager, name="feed test")
    membership = project.memberships.get(user=people.annotator)

    with open_feed(url, project.id, session_cookie(people.annotator)) as ws:
        assert recv_json(ws)["type"] == "feed.ready"
        status, _ = api(url, "DELETE", f"/api/projects/{project.id}/members/{membership.id}/", manager_key)
        assert status == 204
        messages, code = _closed_with(ws)

    assert [m["type"] for m in messages] == ["member.removed", "feed.error"]
    assert messages[-1]["data"]["code"] == "access_revoked"
    assert code == 4403


def test_eleventh_socket_of_a_person_is_refused_with_4429_and_garbage_is_answered(people, feed_server):
    url, _ = feed_server
    project = people.project
    cookie = session_cookie(people.annotator)

    with ExitStack() as stack:
        sockets = [stack.enter_context(open_feed(url, project.id, cookie)) for _ in range(10)]
        for ws in sockets:
            assert recv_json(ws)["type"] == "feed.ready"
        with open_feed(url, project.id, cookie) as extra:
            messages, code = _closed_with(extra)
        assert code == 4429
        assert messages[0]["data"]["code"] == "too_many_sockets"

        sockets[0].send("{not json")
        assert recv_json(sockets[0])["data"]["code"] == "invalid_json"
        sockets[0].send('{"type": "ping"}')
        assert recv_json(sockets[0]) == {"type": "pong", "data": {}}
