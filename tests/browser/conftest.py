"""Browser tests: Debian's Chromium driven by Playwright against the real ASGI app in a subprocess.

Run them in their own pytest process (`make test-browser`): after a Playwright test, `asyncio.run()`
fails in the same process. The server is `uvicorn config.asgi:application` on a free port, pointed at
the test database pytest-django created, with Celery eager and the in-memory channel layer, so a
write and the websocket that announces it live in the same server process. Tests that write use
`@pytest.mark.django_db(transaction=True)`: their data is committed, hence visible to the server.

Nothing here imports Playwright at module level, so `pytest -m "not browser"` collects this
directory without needing a browser.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest

from ..factories import PASSWORD

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = REPO_ROOT / "tests" / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
TIMEOUT_MS = 10_000  # every Playwright wait and expect(); well under the 15 s budget
SERVER_START_SECONDS = 30
BROWSER_DB_SUFFIX = "browser"  # own test database: `make test-backend` may run at the same time


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects
def pytest_collection_modifyitems(config, items):
    """Everything under tests/browser is a browser test, even if a module forgets its pytestmark."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.browser)


# --- Database and server --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Give the browser run its own test database (test_<name>_browser, or a SQLite file).

    The server subprocess must reach the same database, so SQLite's default in-memory test
    database is replaced by a file under var/.
    """
    from django.conf import settings

    for alias, db in settings.DATABASES.items():
        test = db.setdefault("TEST", {})
        if db["ENGINE"].endswith("sqlite3"):
            test["NAME"] = str(_sqlite_var_dir(alias) / "tessera.sqlite3")
        else:
            base = test.get("NAME") or f"test_{db['NAME']}"
            test["NAME"] = f"{base}_{BROWSER_DB_SUFFIX}"


def _sqlite_var_dir(alias: str) -> Path:
    from django.conf import settings

    path = Path(settings.VAR_DIR) / f"browser-tests-{alias}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _server_database_env(tmp_var: Path) -> dict[str, str]:
    """Environment that points the server at the test database pytest-django set up."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"].endswith("postgresql"):
        auth = quote(db["USER"] or "", safe="")
        if db["PASSWORD"]:
            auth += ":" + quote(db["PASSWORD"], safe="")
        host = db["HOST"] or "127.0.0.1"
        port = db["PORT"] or 5432
        return {
            "DATABASE_URL": f"postgres://{auth}@{host}:{port}/{quote(db['NAME'], safe='')}",
            "TESSERA_VAR_DIR": str(tmp_var),
        }
    if db["ENGINE"].endswith("sqlite3"):
        name = str(db["NAME"])
        if name == ":memory:" or "mode=memory" in name:
            pytest.skip(
                "the test database is an in-memory SQLite database, which a server process cannot share"
            )
        # Without DATABASE_URL the settings open VAR_DIR/tessera.sqlite3 with WAL and a busy timeout.
        var_dir = Path(name).parent
        assert Path(name).name == "tessera.sqlite3", name
        return {"TESSERA_VAR_DIR": str(var_dir)}
    pytest.skip(f"browser tests do not know how to share a {db['ENGINE']} database with a server")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own server
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


@pytest.fixture(scope="session")
def server_url(django_db_setup, tmp_path_factory) -> str:
    """Base URL of `uvicorn config.asgi:application` serving the test database. Killed at the end."""
    tmp_var = tmp_path_factory.mktemp("server-var")
    env = {
        **os.environ,
        **_server_database_env(tmp_var),
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "DB_CONN_MAX_AGE": "0",
        "PYTHONUNBUFFERED": "1",
        # The bucket-source flow syncs from a moto S3 server on loopback: an operator's allow-list.
        "CORE_EGRESS_ALLOWED_NETWORKS": "127.0.0.1/32",
        "ANNOTATION_BUCKET_ALLOW_HTTP": "1",
        # Default settings: the text search index is built after each import (config/settings/test.py
        # turns it off for the unit tests).
        "ANNOTATION_SEARCH_INDEX": "1",
    }
    # In-memory channel layer and no broker: the write and the websocket share this one process.
    for name in ("REDIS_URL", "TESSERA_TEST_REDIS_URL", "TESSERA_TEST_REDIS_LAYER", "VITE_DEV_SERVER_URL"):
        env.pop(name, None)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_var / "server.log"
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
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while _get_status(f"{url}/healthz") != 200:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the test server did not become healthy:\n{log_path.read_text()[-4000:]}")
            time.sleep(0.1)  # polling a starting process; not a wait inside a test
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        artifacts = SCREENSHOT_DIR.parent
        artifacts.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(log_path, artifacts / "browser-server.log")


@pytest.fixture(scope="session", autouse=True)
def _allow_sync_orm_next_to_playwright():
    """Playwright's sync API keeps an event loop in this thread; Django's ORM would refuse to run."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


# --- Playwright -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium fonts-liberation")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def base_url(server_url):
    """Relative URLs in page.goto() resolve against the test server."""
    return server_url


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": VIEWPORT, "locale": "en-GB"}


@pytest.fixture(scope="session", autouse=True)
def _bounded_expect_timeout():
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture
def new_context(new_context):
    """pytest-playwright's factory, with bounded timeouts on every page of the context."""

    def make(**kwargs):
        context = new_context(**kwargs)
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        return context

    return make


@pytest.fixture
def page_for(new_context):
    """A fresh browser context signed in as `user` through the login form; returns its page."""

    def make(user):
        page = new_context().new_page()
        login(page, user)
        return page

    return make


def login(page, user, password: str = PASSWORD) -> None:
    """Sign in through the real form and wait for the project list."""
    from playwright.sync_api import expect

    page.goto("/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/projects/$"))


def shot(page, name: str, *, full_page: bool = True) -> Path:
    """Save what the user sees to tests/artifacts/screenshots/<name>.png."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    scroll = page.evaluate("[scrollX, scrollY]")
    page.screenshot(path=str(path), full_page=full_page, animations="disabled", caret="hide")
    if full_page:
        # Chromium captures the whole page by laying it out in a viewport as tall as the document and
        # then restoring the real one, but leaves the scroll offset stale (on the data page 400 px
        # past the end). The next input event clamps it: a mouse click after a full-page shot then
        # pressed on one element and released on another 400 px away, and the click was lost
        # (the data manager's Apply button). Put the page back where the user left it.
        page.evaluate(
            "([x, y]) => { document.documentElement.getBoundingClientRect(); window.scrollTo(x, y); }", scroll
        )
    return path


def select_word(page, word: str, field: str = "") -> None:
    """Drag the mouse over `word` in a text view (across span boundaries), like a person would."""
    body = f".tx-body[data-field='{field}']" if field else ".tx-body"
    box = page.evaluate(
        """([selector, word]) => {
            const body = document.querySelector(selector);
            const nodes = [];
            const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
            let text = "";
            while (walker.nextNode()) {
                nodes.push([walker.currentNode, text.length]);
                text += walker.currentNode.data;
            }
            const at = text.indexOf(word);
            if (at < 0) return null;
            const locate = (i) => {
                for (let k = nodes.length - 1; k >= 0; k--) {
                    if (nodes[k][1] <= i) return [nodes[k][0], i - nodes[k][1]];
                }
            };
            const range = document.createRange();
            range.setStart(...locate(at));
            range.setEnd(...locate(at + word.length - 1));
            const first = range.getClientRects()[0];
            const end = document.createRange();
            end.setStart(...locate(at + word.length - 1));
            end.setEnd(...locate(at + word.length - 1).map((v, j) => (j === 1 ? v + 1 : v)));
            const last = end.getBoundingClientRect();
            const y = (r) => r.top + r.height / 2;
            return {x: first.left, y: y(first), x2: last.right, y2: y(last)};
        }""",
        [body, word],
    )
    assert box is not None, f"{word!r} is not in {body}"
    page.mouse.move(box["x"] + 1, box["y"])
    page.mouse.down()
    page.mouse.move(box["x2"] - 1, box["y2"], steps=5)
    page.mouse.up()
