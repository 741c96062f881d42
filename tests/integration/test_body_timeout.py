"""Slow request bodies are cut off with a 408 by a real uvicorn on loopback (core/body_timeout.py).

Raw sockets play the slow clients; the server runs with a 2 s timeout so each case takes seconds.
"""

import json
import socket
import time

import pytest

from .conftest import _database_url
from .feed_server import asgi_server

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

TIMEOUT = 2


@pytest.fixture
def slow_server(transactional_db, redis_url, isolated_names, tmp_path):
    with asgi_server(
        database_url=_database_url(),
        redis_url=redis_url,
        prefix=isolated_names["channels_prefix"],
        tmp_path=tmp_path,
        extra_env={"REQUEST_BODY_TIMEOUT_SECONDS": str(TIMEOUT), "REQUEST_BODY_MIN_BYTES_PER_SECOND": "1024"},
    ) as (url, _):
        yield int(url.rsplit(":", 1)[1])


def _start(port: int, length: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=15)
    sock.sendall(
        (
            "POST /login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {length}\r\n\r\n"
        ).encode()
    )
    return sock


def _response(sock: socket.socket) -> tuple[int, dict]:
    raw = b""
    while chunk := sock.recv(65536):
        raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def test_a_stalled_body_gets_408_after_the_timeout(slow_server):
    sock = _start(slow_server, 1000)
    sock.sendall(b"username=a")
    started = time.monotonic()

    status, body = _response(sock)  # the server closes the connection after answering

    assert status == 408
    assert body["code"] == "request_body_timeout"
    assert TIMEOUT - 0.5 < time.monotonic() - started < TIMEOUT + 5


def test_a_trickling_body_gets_408_although_every_byte_comes_in_time(slow_server):
    """One byte every 0.4 s never stalls for the 2 s timeout, but averages far below 1 KiB/s."""
    sock = _start(slow_server, 1000)
    started = time.monotonic()
    status = None
    try:
        for _ in range(40):  # 16 s if nothing stopped it
            sock.sendall(b"x")
            time.sleep(0.4)
    except (BrokenPipeError, ConnectionResetError):
        pass
    status, body = _response(sock)

    assert status == 408
    assert body["code"] == "request_body_timeout"
    assert time.monotonic() - started < TIMEOUT + 5


def test_a_body_sent_at_a_normal_pace_is_served(slow_server):
    body = b"username=nobody&password=wrong"
    sock = _start(slow_server, len(body))
    sock.sendall(body[:10])
    time.sleep(1)  # a pause below the timeout
    sock.sendall(body[10:])
    head = sock.recv(65536)
    sock.close()

    assert head.split()[1] in (b"200", b"403")  # the login page answers (CSRF refusal included)
