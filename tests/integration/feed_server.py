"""A real `uvicorn config.asgi:application` process on the Redis channel layer, for feed tests.

The server is configured exactly like a deployment's web process (the channel layer comes from
config.settings, not from a test override), serves the PostgreSQL test database, and is reached
with a real websocket client (the `websockets` library) carrying a real session cookie.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own server
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


@contextmanager
def asgi_server(*, database_url: str, redis_url: str, prefix: str, tmp_path: Path, extra_env=None, args=()):
    """Start uvicorn on a free loopback port; yield (base_url, log_path); stop it afterwards."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "TESSERA_TEST_REDIS_LAYER": "1",  # the layer of config.settings.base, as deployed
        "TESSERA_TEST_REDIS_CACHE": "1",  # and the cache (feed socket slots) in Redis, as deployed
        "CHANNELS_PREFIX": prefix,
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "DB_CONN_MAX_AGE": "0",
        "TESSERA_VAR_DIR": str(tmp_path),
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    env.pop("VITE_DEV_SERVER_URL", None)
    log_path = tmp_path / f"uvicorn-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "config.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--lifespan",
                "off",
                "--no-server-header",
                *args,
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while _status(f"{url}/healthz") != 200:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the ASGI server did not start:\n{log_path.read_text()[-4000:]}")
            time.sleep(0.1)
        yield url, log_path
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def session_cookie(user) -> str:
    """A real signed-in session for `user`, stored in the test database the server reads."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def open_feed(base_url: str, project_id: int, cookie: str, **kwargs):
    """A websocket to the project feed, signed in through `cookie`; the caller closes it."""
    from websockets.sync.client import connect

    ws_url = base_url.replace("http://", "ws://") + f"/ws/projects/{project_id}/"
    return connect(ws_url, origin=base_url, additional_headers={"Cookie": cookie}, open_timeout=10, **kwargs)


def recv_json(ws, timeout: float = 10.0) -> dict:
    return json.loads(ws.recv(timeout=timeout))


def api(base_url: str, method: str, path: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(  # noqa: S310 - our own server on loopback
        base_url + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our own server
            raw = response.read()
            return response.status, json.loads(raw) if raw else {}
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, json.loads(raw) if raw else {}
