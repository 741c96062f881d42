"""A Redis and a PostgreSQL that a fault test owns: started on a free port in a temp dir, stopped and
restarted by the test. The shared services on 6379 and 5432 are never touched."""

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

PG_BIN = Path(os.environ.get("TESSERA_PG_BIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


class OwnedRedis:
    """`redis-server` on 127.0.0.1:<free port> with its data in `directory` (append-only file on, as
    in docker-compose, so queued jobs survive a restart)."""

    def __init__(self, directory: Path):
        if shutil.which("redis-server") is None:
            pytest.skip("redis-server is not installed")
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "yes"),
                *("--dir", str(self.directory), "--logfile", str(self.directory / "redis.log")),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not _answers(self.port):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None
        deadline = time.monotonic() + 5
        while _answers(self.port) and time.monotonic() < deadline:
            time.sleep(0.05)


class OwnedPostgres:
    """A throwaway PostgreSQL 15 cluster (initdb in a temp dir) on 127.0.0.1:<free port>, trust auth.

    initdb refuses to run as root, so as root the cluster belongs to the `postgres` OS user."""

    def __init__(self, directory: Path):
        if not (PG_BIN / "initdb").exists():
            pytest.skip(f"PostgreSQL binaries not found in {PG_BIN}")
        self.directory = directory
        self.data = directory / "data"
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        directory.mkdir(parents=True, exist_ok=True)
        if self.as_root:
            shutil.chown(directory, "postgres", "postgres")
        self._run([str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-N"])
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{directory}'\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 40\n"
            )

    def _run(self, command: list[str]) -> None:
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)

    def url(self, name: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def start(self) -> None:
        log = self.directory / "postgres.log"
        self._run([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(log), "-w", "-t", "30", "start"])

    def stop(self) -> None:
        self._run([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "-t", "30", "stop"])

    def restart(self) -> None:
        self._run([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "-t", "30", "restart"])

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError):  # already stopped
            self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture
def owned_redis(tmp_path):
    server = OwnedRedis(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def owned_postgres():
    # Not under pytest's tmp dir: that is private to root, and the cluster may run as `postgres`.
    base = Path(tempfile.mkdtemp(prefix="tessera-pg-"))
    os.chmod(base, 0o755)  # noqa: S103 - the postgres OS user must reach its data directory
    server = OwnedPostgres(base / "cluster")
    server.start()
    try:
        yield server
    finally:
        server.destroy()
        shutil.rmtree(base, ignore_errors=True)


def start_worker(*, redis_url: str, database_url: str, queue: str, log_path: Path, env_extra: dict, args=()):
    """A `celery worker` process (solo pool, like production's one-process-per-container) on `queue`;
    returns the Popen once it is ready."""
    import sys

    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "PYTHONUNBUFFERED": "1",
        **env_extra,
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--pool=solo",
        "-l",
        "info",
    ]
    log = log_path.open("w")
    process = subprocess.Popen([*command, *args], cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 40
    while "ready." not in log_path.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"Celery worker did not start:\n{log_path.read_text()[-4000:]}")
        time.sleep(0.1)
    return process


def stop_worker(process) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
