"""A project manager brings a Label Studio export in on the Data tab (defaults only) and sees every
annotation and prediction accounted for in the import's result and on the job page (issue #13)."""

import json
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


def test_annotator_starts_from_an_imported_label_studio_prediction(page_for, people, tmp_path):
    """The predictions of a Label Studio export are offered as pre-annotations on the Label tab."""
    project = people.project
    schema = {
        "version": 1,
        "fields": [{"name": "text", "type": "text", "source": "text"}],
        "controls": [c for c in TESSERA_SCHEMA["controls"] if c["name"] == "sentiment"],
    }
    project_services.schema_version_create(project=project, actor=people.manager, definition=schema)
    task = {
        "id": 1,
        "data": {"text": "The battery lasts two days."},
        "predictions": [
            {
                "model_version": "sentiment-v3",
                "score": 0.92,
                "result": [
                    {
                        "id": "p1",
                        "from_name": "sentiment",
                        "to_name": "text",
                        "type": "choices",
                        "value": {"choices": ["positive"]},
                    }
                ],
            }
        ],
    }
    export = tmp_path / "export.json"
    export.write_text(json.dumps([task]))
    manager = page_for(people.manager)
    manager.goto(f"/projects/{project.id}/data/")
    manager.locator("#import-file").set_input_files(export)
    manager.get_by_role("button", name="Import", exact=True).click()
    expect(manager.locator("#import-label-counts li").nth(1)).to_have_text(
        "Predictions: 1 imported · 0 rejected (of 1)", timeout=30_000
    )

    page = page_for(people.annotator)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.get_by_role("link", name="Reviews").click()
    page.get_by_role("navigation", name="Project").get_by_role("link", name="Label", exact=True).click()
    expect(page.locator(".lb-app[data-phase='working']")).to_be_visible()
    expect(page.locator(".lb-badge--predicted").first).to_be_visible()
    expect(page.get_by_role("radio", name=re.compile("positive"))).to_be_checked()
    shot(page, "labelstudio-prediction-offered", full_page=False)
    page.keyboard.press("Control+Enter")
    expect(page.locator(".lb-app[data-phase='empty']")).to_be_visible()

    annotation = Annotation.objects.get(project=project, annotator=people.annotator)
    prediction = Prediction.objects.get(project=project)
    assert annotation.result == {"sentiment": "positive"} and annotation.prediction_id == prediction.id
    assert errors == []
