"""PostgreSQL restarted and stopped under a live server (uvicorn, psycopg pool as in docker-compose),
on a throwaway cluster the test owns (initdb in a temp dir, a free port; the shared 5432 is never
restarted): reads survive a restart, requests during the outage answer 503 with Retry-After, and
the server recovers by itself. Plus a GET whose connection dies mid-request is retried once."""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import psycopg
import pytest
from django.db import connection
from django.test import Client

from .conftest import ROOT, _database_url
from .fault_kit import PG_BIN, OwnedPostgres, free_port

pytestmark = [pytest.mark.integration]

SEED = """
import django; django.setup()
from accounts.services import api_token_create, user_create
user = user_create(username="ada", password="a long enough password 7")
print(api_token_create(user=user, name="faults")[1])
"""


def _request(url: str, token: str, method: str = "GET", body: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - http://127.0.0.1
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 - 127.0.0.1 only
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def _answers_again(url: str, token: str, within: float = 20.0) -> None:
    """Until the app answers 200, every answer is a clean 503 with Retry-After (never a 500)."""
    deadline = time.monotonic() + within
    while True:
        status, headers, body = _request(f"{url}/api/projects/", token)
        if status == 200:
            return
        assert status == 503, body
        assert json.loads(body)["code"] == "service_unavailable" and int(headers["Retry-After"]) > 0
        assert time.monotonic() < deadline, "the app did not recover after PostgreSQL came back"
        time.sleep(0.5)


@pytest.fixture
def live_server_on_owned_postgres(transactional_db, tmp_path):
    """The schema of the test database copied into an owned cluster, a user with a token, and
    uvicorn serving the app against it with the connection pool on."""
    import tempfile
    from pathlib import Path

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    source = _database_url()
    base = Path(tempfile.mkdtemp(prefix="tessera-pg-"))
    os.chmod(base, 0o755)  # noqa: S103 - the postgres OS user must reach its data directory
    server = OwnedPostgres(base / "cluster")
    server.start()
    process = None
    try:
        subprocess.run(
            [
                str(PG_BIN / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(server.port),
                "-U",
                "postgres",
                "tessera",
            ],
            check=True,
        )
        dump = subprocess.run(
            [str(PG_BIN / "pg_dump"), "--schema-only", "--no-owner", "--no-privileges", source],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [str(PG_BIN / "psql"), "-q", "-v", "ON_ERROR_STOP=1", server.url("tessera")],
            input=dump.stdout,
            check=True,
            capture_output=True,
        )
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": server.url("tessera"),
            "DB_POOL": "true",
            "DB_POOL_MIN": "2",
            "DB_POOL_TIMEOUT": "3",  # how long a request waits for a connection while PostgreSQL is down
            "REDIS_URL": "",
            "TESSERA_VAR_DIR": str(tmp_path / "var"),
            "PYTHONUNBUFFERED": "1",
        }
        token = subprocess.run(
            [sys.executable, "-c", SEED], cwd=ROOT, env=env, check=True, capture_output=True, text=True
        ).stdout.strip()
        port = free_port()
        log_path = tmp_path / "uvicorn.log"
        log = log_path.open("w")
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1"),
                *("--port", str(port), "--lifespan", "off", "--no-access-log"),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/healthz", timeout=2).close()  # noqa: S310
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail(f"uvicorn did not start:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.2)
        yield server, url, token, log_path
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        server.destroy()
        import shutil

        shutil.rmtree(base, ignore_errors=True)


def test_postgres_restart_and_outage_under_a_live_server(live_server_on_owned_postgres):
    server, url, token, log_path = live_server_on_owned_postgres
    status, _, _ = _request(f"{url}/api/projects/", token)
    assert status == 200
    for _ in range(3):  # fill the pool with connections that the restart will kill
        assert _request(f"{url}/api/projects/", token)[0] == 200

    server.restart()  # every pooled connection dies: never a 500, and back to 200 by itself
    _answers_again(url, token)

    server.stop()
    status, headers, body = _request(f"{url}/api/projects/", token)
    assert status == 503, body
    assert json.loads(body)["code"] == "service_unavailable"
    assert int(headers["Retry-After"]) > 0
    status, headers, body = _request(f"{url}/api/organisations/", token, "POST", {"name": "x", "slug": "x"})
    assert status == 503, body
    assert json.loads(body)["code"] == "service_unavailable" and headers["Retry-After"]

    server.start()
    _answers_again(url, token)
    assert "Internal Server Error" not in log_path.read_text()


@pytest.mark.django_db(transaction=True)
def test_a_get_whose_connection_dies_mid_request_is_retried_once(people, settings):
    """The connection serving a GET is terminated by the server (as in a failover) right before the
    request's first query: the read is retried on a fresh connection and answers 200. A POST in the
    same situation is not replayed: it answers 503."""
    assert connection.vendor == "postgresql"
    killed = []

    def kill_once(execute, sql, params, many, context):
        if not killed:
            pid = context["connection"].connection.info.backend_pid
            with psycopg.connect(_database_url(), autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", [pid])
            killed.append(pid)
        return execute(sql, params, many, context)

    client = Client(raise_request_exception=False)
    client.force_login(people.manager)
    with connection.execute_wrapper(kill_once):
        response = client.get("/api/projects/")
    assert killed
    assert response.status_code == 200, response.content

    killed.clear()
    with connection.execute_wrapper(kill_once):
        response = client.post(
            "/api/projects/", {"name": "During a failover"}, content_type="application/json"
        )
    assert killed
    assert response.status_code == 503, response.content
    assert response.json()["code"] == "service_unavailable"
