"""An annotator's labeling page on the deployed feed (a uvicorn of its own on the Redis channel layer,
not the session server's in-memory layer): it stays connected through an idle period, and when the
manager removes them the page says so at once and stops reconnecting."""

import os
import re

import pytest

from accounts.services import api_token_create
from projects.models import ProjectMembership
from tests.factories import PASSWORD
from tests.integration.feed_server import api, asgi_server

from .conftest import REPO_ROOT, _server_database_env
from .labeling_helpers import setup
from .test_labeling_review_drafts import SENTIMENT

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

IDLE_MS = 12_000  # beyond redis-py's 5 s socket timeout plus channels_redis's 5 s blocking read
SCREENSHOT = REPO_ROOT / "docs" / "screenshots" / "labeling-access-revoked.png"


@pytest.fixture
def redis_server(django_db_setup, tmp_path):
    redis_url = os.environ.get("TESSERA_TEST_REDIS_URL")
    if not redis_url:
        pytest.skip("Redis not available on this machine")
    env = _server_database_env(tmp_path)
    with asgi_server(
        database_url=env["DATABASE_URL"],
        redis_url=redis_url,
        prefix=f"tessera-browser-{os.getpid()}",
        tmp_path=tmp_path,
    ) as (url, _):
        yield url


def test_labeling_page_stays_live_while_idle_and_is_told_when_removed(new_context, people, redis_server):
    url = redis_server
    project, _ = setup(people, SENTIMENT)
    _, manager_key = api_token_create(user=people.manager, name="browser feed test")
    membership = ProjectMembership.objects.get(project=project, user=people.annotator)

    page = new_context().new_page()
    sockets = []
    page.on("websocket", lambda ws: sockets.append(ws))
    page.goto(f"{url}/login/")
    page.get_by_label("Username").fill(people.annotator.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/projects/$"))
    page.goto(f"{url}/projects/{project.id}/label/")
    expect(page.locator(".lb-app[data-phase='working']")).to_be_visible()
    expect(page.locator(".lb-live--open")).to_have_text("Live")

    page.wait_for_timeout(IDLE_MS)  # an annotator reading a long item

    expect(page.locator(".lb-live--open")).to_have_text("Live")
    assert len(sockets) == 1  # never dropped and reopened
    assert not sockets[0].is_closed()

    status, _ = api(url, "DELETE", f"/api/projects/{project.id}/members/{membership.id}/", manager_key)
    assert status == 204

    expect(page.locator(".lb-app[data-phase='lost']")).to_be_visible()
    expect(page.locator(".lb-app")).to_contain_text("You were removed from this project.")
    expect(page.locator(".lb-live--offline")).to_have_text("Offline")
    page.wait_for_timeout(1_000)
    assert len(sockets) == 1  # 4403: no reconnect attempts
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), animations="disabled", caret="hide")
