"""Releases in the browser: a manager creates a release with the form and sees it published, downloads
a file, verifies the release, watches a second release build live (progress, then published through
the project feed) and opens the diff between the two."""

import hashlib
import json
import shutil
import urllib.request
from pathlib import Path

import pytest

from accounts.services import api_token_create
from annotation.models import Item
from exports.models import Release
from quality.models import ConsensusResult
from quality.services import quality_compute
from tests.annotation.workflow_kit import make_lab
from tests.quality.test_quality_service import label_everything, pattern

from .conftest import REPO_ROOT, shot

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_creates_verifies_watches_and_diffs_releases(page_for, people, server_url):
    lab = make_lab(people, overlap=3, annotators=3, items=4)
    label_everything(lab, pattern)
    quality_compute(project_id=lab.project.id, full=True)
    project = lab.project

    page = page_for(people.manager)
    page.goto(f"/projects/{project.id}/")
    page.get_by_role("navigation", name="Project").get_by_role("link", name="Releases").click()
    expect(page.get_by_role("heading", name="New release")).to_be_visible()

    # A bad name is refused next to the form, and nothing is created.
    page.get_by_label("Name", exact=True).fill("../etc")
    page.get_by_role("button", name="Create release").click()
    expect(page.get_by_role("alert")).to_contain_text("A release name is 1 to 100")
    assert not Release.objects.exists()

    page.get_by_label("Name", exact=True).fill("first-cut")
    page.get_by_label("csv").check()
    page.get_by_role("button", name="Create release").click()
    # Celery is eager: the build ran in the create request's commit, so the page shows it published.
    expect(page.get_by_role("heading", name="Release 1: first-cut")).to_contain_text("Published")
    expect(page.get_by_role("heading", name="Labels: sentiment")).to_be_visible()
    release = Release.objects.get(project=project, number=1)

    csv_file = release.files.get(path__startswith="csv/")
    with page.expect_download() as download:
        page.get_by_role("link", name=csv_file.path, exact=True).click()
    body = Path(download.value.path()).read_bytes()
    assert hashlib.sha256(body).hexdigest() == csv_file.sha256

    page.get_by_role("button", name="Verify the stored files").click()
    expect(page.get_by_role("status").filter(has_text="Verified:")).to_contain_text(
        f"{release.files.count() - 1} files match the signed manifest"
    )

    # Release 2 relabels one item; it is "building" (its worker died), the page waits on the feed,
    # and a retry over the API builds it: progress, then published, without touching the page.
    changed = ConsensusResult.objects.filter(project=project, control="sentiment").order_by("item_id").first()
    old_label = changed.answer
    changed.answer = "neutral" if old_label != "neutral" else "positive"
    changed.save(update_fields=["answer"])
    Release.objects.create(
        project=project, number=2, name="second-cut", formats=["jsonl"], requested_by=people.manager
    )
    page.goto(f"/projects/{project.id}/releases/2/")
    expect(page.get_by_role("progressbar")).to_be_visible()
    expect(page.locator("[data-release-progress-text]")).to_contain_text("records written")
    page.locator('#release-app[data-feed="ready"]').wait_for()
    _, token = api_token_create(user=people.manager, name="retry")
    request = urllib.request.Request(  # noqa: S310 - the test server on loopback
        f"{server_url}/api/projects/{project.id}/releases/2/retry/",
        method="POST",
        headers={"Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert response.status == 202
    expect(page.get_by_role("heading", name="Release 2: second-cut")).to_contain_text("Published")
    expect(page.get_by_role("progressbar")).to_have_count(0)

    page.get_by_label("Changes since release").select_option("1")
    page.get_by_role("button", name="Show the diff").click()
    expect(page.get_by_role("heading", name="Changes in release 2 since release 1")).to_be_visible()
    changed_item = Item.objects.get(pk=changed.item_id)
    key = changed_item.external_id or f"sha256:{changed_item.checksum[:10]}"
    row = page.get_by_role("row").filter(has_text=key)
    expect(row).to_contain_text(json.dumps(old_label).strip('"'))
    expect(row.locator(".diff-new")).to_have_text(changed.answer)
    shot(page, "releases-diff")
    page.get_by_role("navigation", name="Project").get_by_role("link", name="Releases").click()
    expect(page.get_by_role("link", name="second-cut")).to_be_visible()
    shot(page, "releases-list")

    page.goto(f"/projects/{project.id}/releases/1/")
    path = shot(page, "releases")
    shutil.copyfile(path, REPO_ROOT / "docs" / "screenshots" / "releases.png")
