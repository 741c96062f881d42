"""Helpers shared by benchmarks: manage.py, an ASGI server subprocess, loopback HTTP, a throwaway
PostgreSQL database. Everything talks to 127.0.0.1 only and cleans up after itself."""

from __future__ import annotations

import http.client
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def manage(*args: str, python: str, repo_root: Path, env: dict[str, str], timeout: float = 600) -> str:
    """Run `python manage.py <args>`; raise with its output when it fails."""
    completed = subprocess.run(
        [python, "manage.py", *args],
        cwd=repo_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"manage.py {' '.join(args)} exited {completed.returncode}:\n{completed.stdout}{completed.stderr}"
        )
    return completed.stdout


def http_get(port: int, path: str, *, timeout: float = 10) -> tuple[int, bytes]:
    """One GET on a new connection to 127.0.0.1:<port>; returns (status, body)."""
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Host": f"{LOOPBACK}:{port}"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def rss_mb(pid: int) -> float:
    """Resident memory of a process and all its children, in MB (10**6 bytes)."""
    process = psutil.Process(pid)
    total = process.memory_info().rss
    for child in process.children(recursive=True):
        with suppress(psutil.NoSuchProcess):  # a child may exit while we look
            total += child.memory_info().rss
    return total / 1e6


class AsgiServer:
    """`uvicorn config.asgi:application` on a free loopback port, as a context manager.

    Entering spawns the process and records the spawn time; leaving terminates it (kill after 10 s)
    and waits, also when the body raised. Output goes to `log_path`, shown when startup fails.
    """

    def __init__(self, *, python: str, repo_root: Path, env: dict[str, str], log_path: Path) -> None:
        self.python, self.repo_root, self.env, self.log_path = python, repo_root, env, log_path
        self.port = 0
        self.process: subprocess.Popen | None = None
        self.spawned_at = 0.0
        self._log = None

    def __enter__(self) -> AsgiServer:
        self.port = free_port()
        command = [
            self.python, "-m", "uvicorn", "config.asgi:application",
            "--host", LOOPBACK, "--port", str(self.port), "--no-server-header", "--log-level", "warning",
        ]  # fmt: skip
        self._log = self.log_path.open("ab")
        self.spawned_at = time.perf_counter()
        try:
            self.process = subprocess.Popen(
                command, cwd=self.repo_root, env=self.env, stdout=self._log, stderr=subprocess.STDOUT
            )
        except BaseException:
            self._log.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def wait_until_ok(self, path: str = "/healthz", *, timeout: float = 60, poll: float = 0.005) -> float:
        """Seconds from spawn to the first 200 on `path`. Raises if the process dies or time runs out."""
        assert self.process is not None
        deadline = self.spawned_at + timeout
        last = "no answer"
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"server exited with {self.process.returncode} before answering:\n{self.log_tail()}"
                )
            try:
                status, body = http_get(self.port, path, timeout=5)
            except OSError as error:  # not listening yet
                last = f"{type(error).__name__}: {error}"
            else:
                if status == 200:
                    return time.perf_counter() - self.spawned_at
                last = f"HTTP {status}: {body[:300]!r}"
            time.sleep(poll)
        raise TimeoutError(f"no 200 on {path} within {timeout} s (last: {last}):\n{self.log_tail()}")

    def get_ok(self, path: str) -> bytes:
        status, body = http_get(self.port, path)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}: {body[:300]!r}\n{self.log_tail()}")
        return body

    def log_tail(self, lines: int = 30) -> str:
        try:
            if self._log is not None and not self._log.closed:
                self._log.flush()
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self._log is not None and not self._log.closed:
            self._log.close()


# --- PostgreSQL --------------------------------------------------------------------------------------------
def is_postgres_url(url: str | None) -> bool:
    return bool(url) and urlsplit(url).scheme in {"postgres", "postgresql"}


def with_database(url: str, name: str) -> str:
    """The same server and credentials, another database."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _admin_connection(url: str):
    """Autocommit connection for CREATE/DROP DATABASE: the maintenance db `postgres`, else the URL's."""
    import psycopg

    try:
        return psycopg.connect(url, dbname="postgres", autocommit=True, connect_timeout=5)
    except psycopg.OperationalError:
        return psycopg.connect(url, autocommit=True, connect_timeout=5)


def _recreate(url: str, name: str, *, create: bool) -> None:
    from psycopg import sql

    with _admin_connection(url) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if create:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


@contextmanager
def throwaway_postgres_database(url: str, name: str) -> Iterator[str]:
    """Drop and create database `name` on the server of `url`; yield its URL; drop it afterwards."""
    _recreate(url, name, create=True)
    try:
        yield with_database(url, name)
    finally:
        _recreate(url, name, create=False)


def run_workload(module: str, *args: str, repo_root: Path, env: dict[str, str], timeout: float = 900) -> dict:
    """Run `python -m <module> <args>` (a bench/workloads script printing one JSON line last) in its
    own process, so its memory and imports are its own; return that JSON."""
    import json
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=repo_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{module} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_workload_on_throwaway_postgres(
    ctx, database: str, module: str, conf: dict, *, timeout: float = 1800, **env_overrides
) -> dict:
    """The usual shape of a PostgreSQL benchmark: a throwaway database `database`, migrated with
    production settings (no Redis: eager jobs, in-memory channel layer; a fresh secret key; the
    benchmark's own var dir), and the workload `module` run on it with `conf` as JSON."""
    import json
    import secrets
    import sys

    with throwaway_postgres_database(ctx.env.database_url, database) as database_url:
        env = ctx.subprocess_env(
            DJANGO_SETTINGS_MODULE="config.settings.production",
            DJANGO_SECRET_KEY=secrets.token_urlsafe(48),
            DJANGO_DEBUG="0",
            DATABASE_URL=database_url,
            REDIS_URL=None,
            TESSERA_VAR_DIR=str(ctx.tmp_dir / "var"),
            DB_CONN_MAX_AGE=None,
            **env_overrides,
        )
        manage("migrate", "--noinput", "-v", "0", python=sys.executable, repo_root=ctx.repo_root, env=env)
        return run_workload(module, json.dumps(conf), repo_root=ctx.repo_root, env=env, timeout=timeout)
