"""A project manager brings a Label Studio export in on the Data tab (defaults only) and sees every
annotation and prediction accounted for in the import's result and on the job page (issue #13)."""

import re
import shutil

import pytest

from annotation.models import Annotation, ImportJob, Prediction
from projects import services as project_services
from tests.annotation.labelstudio_export import TESSERA_SCHEMA, export_bytes

from .conftest import REPO_ROOT, shot

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_imports_a_label_studio_export_with_its_annotations(page_for, people, tmp_path):
    project = people.project
    # The project's schema follows the Label Studio config (control names = from_name).
    project_services.schema_version_create(project=project, actor=people.manager, definition=TESSERA_SCHEMA)
    export = tmp_path / "project-3-at-2026-03-05-10-00.json"
    export.write_bytes(export_bytes())
    errors: list[str] = []
    page = page_for(people.manager)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.get_by_role("link", name="Reviews").click()
    page.get_by_role("navigation", name="Project").get_by_role("link", name="Data").click()
    expect(page.get_by_role("heading", name="Import data")).to_be_visible()

    page.locator("#import-file").set_input_files(export)
    page.get_by_role("button", name="Import", exact=True).click()

    # The test server runs jobs eagerly inside the upload request: the import, then the quality
    # recompute over the 55 imported annotations, then near-duplicate detection. A worker does these
    # in the background; here the answer waits for all of them.
    expect(page.locator("#import-status")).to_have_text(
        "Imported 50 items · 0 duplicates skipped · 0 rejected", timeout=30_000
    )
    counts = page.locator("#import-label-counts li")
    expect(counts).to_have_text(
        [
            "Annotations: 55 imported · 5 cancelled (kept as skips) · 0 rejected (of 60)",
            "Predictions: 27 imported · 0 rejected (of 27)",
            "4 imported annotators",
        ]
    )
    page.evaluate("window.scrollTo(0, 0)")
    path = shot(page, "labelstudio-import")
    shutil.copyfile(path, REPO_ROOT / "docs" / "screenshots" / "labelstudio-import.png")

    page.get_by_role("link", name="Job details").click()
    expect(page).to_have_url(re.compile(rf"/projects/{project.id}/data/imports/\d+/"))
    table = page.locator("#job-label-counts")
    expect(table.get_by_role("row", name=re.compile("^Annotations"))).to_contain_text("55")
    expect(table.get_by_role("row", name=re.compile("^Predictions"))).to_contain_text("27")

    job = ImportJob.objects.get(project=project)
    assert (job.status, job.created_by_id) == ("succeeded", people.manager.id)
    assert Annotation.objects.filter(project=project).count() == 55
    assert Prediction.objects.filter(project=project).count() == 27
    assert errors == []
