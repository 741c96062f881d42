"""An ML engineer's manager checks a published release: Reproduce rebuilds it in the background and
the page says "identical"; the diff against the previous release names items by their external ids
and shows label names (docs/RELEASES.md)."""

import json
import shutil
import urllib.request

import pytest

from accounts.services import api_token_create
from annotation.models import Item
from exports.models import Release, ReleaseReproduction
from quality.models import ConsensusResult
from quality.services import quality_compute
from tests.annotation.workflow_kit import make_lab
from tests.quality.test_quality_service import label_everything, pattern

from .conftest import REPO_ROOT, shot

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _create_release(server_url, token, project, name):
    request = urllib.request.Request(  # noqa: S310 - the test server on loopback
        f"{server_url}/api/projects/{project.id}/releases/",
        data=json.dumps({"name": name, "formats": ["jsonl", "csv"]}).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        assert response.status == 202


def test_manager_reproduces_a_release_and_reads_the_diff_by_external_id(page_for, people, server_url):
    lab = make_lab(people, overlap=3, annotators=3, items=4)
    for n, item in enumerate(lab.items):
        Item.objects.filter(pk=item.pk).update(external_id=f"headline-{n + 1:03d}")
    label_everything(lab, pattern)
    quality_compute(project_id=lab.project.id, full=True)
    project = lab.project
    _, token = api_token_create(user=people.manager, name="ml")
    _create_release(server_url, token, project, "first-cut")
    changed = ConsensusResult.objects.filter(project=project, control="sentiment").order_by("item_id").first()
    old_label = changed.answer
    changed.answer = "neutral" if old_label != "neutral" else "positive"
    changed.save(update_fields=["answer"])
    _create_release(server_url, token, project, "second-cut")
    assert Release.objects.filter(project=project, status="published").count() == 2

    page = page_for(people.manager)
    page.goto(f"/projects/{project.id}/releases/2/")
    expect(page.get_by_role("heading", name="Release 2: second-cut")).to_contain_text("Published")
    page.get_by_role("button", name="Reproduce").click()
    expect(page.get_by_role("status").filter(has_text="Identical")).to_contain_text(
        "files were rebuilt byte for byte"
    )
    assert ReleaseReproduction.objects.get(release__number=2, release__project=project).identical is True
    page.evaluate("document.getElementById('release-reproduce').scrollIntoView(); window.scrollBy(0, -90)")
    path = shot(page, "release-reproduce", full_page=False)
    shutil.copyfile(path, REPO_ROOT / "docs" / "screenshots" / "release-reproduce.png")

    page.get_by_label("Changes since release").select_option("1")
    page.get_by_role("button", name="Show the diff").click()
    expect(page.get_by_role("heading", name="Changes in release 2 since release 1")).to_be_visible()
    external_id = Item.objects.get(pk=changed.item_id).external_id
    row = page.get_by_role("row").filter(has_text=external_id)
    expect(row.locator(".diff-old")).to_have_text(old_label)
    expect(row.locator(".diff-new")).to_have_text(changed.answer)
    expect(row.locator("td").first).to_have_text(external_id)
    path = shot(page, "release-diff")
    shutil.copyfile(path, REPO_ROOT / "docs" / "screenshots" / "release-diff.png")
