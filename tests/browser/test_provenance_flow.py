"""Provenance (#18) as the project manager: on a project with a schema and no data, upload one file from a
public dataset and one of users' data (consent), creating each source from the import card; see the
sources in the Data tab; build a release; download DATASHEET.md and AI_RMF.json and read what they say."""

import json
from pathlib import Path

import pytest

from annotation.models import Item, ProvenanceSource
from exports.models import Release
from quality.services import quality_compute
from tests.annotation.workflow_kit import make_lab
from tests.quality.test_quality_service import label_everything, pattern

from .conftest import shot

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _upload(page, path: Path, count: int) -> None:
    page.locator("#import-file").set_input_files(path)
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#import-status")).to_contain_text(f"Imported {count} items")


def test_manager_imports_with_sources_and_reads_the_evidence(page_for, people, tmp_path):
    lab = make_lab(people, overlap=3, annotators=3, items=0)
    project = lab.project
    public_file = tmp_path / "imdb.jsonl"
    public_file.write_text("".join(json.dumps({"text": f"IMDb review {i}"}) + "\n" for i in range(6)))
    user_file = tmp_path / "feedback.jsonl"
    user_file.write_text("".join(json.dumps({"text": f"App feedback {i}"}) + "\n" for i in range(6)))

    page = page_for(people.manager)
    page.goto(f"/projects/{project.id}/data/")
    expect(page.get_by_role("heading", name="Import data")).to_be_visible()

    # A public dataset: a new source with its URL and licence, created with the import.
    card = page.locator("#import-panel")
    card.get_by_label("Source", exact=True).select_option("new")
    card.get_by_label("Source name").fill("IMDb reviews")
    card.get_by_label("Kind", exact=True).select_option("public")
    card.get_by_label("Dataset name").fill("Large Movie Review Dataset")
    card.get_by_label("URL", exact=True).fill("https://ai.stanford.edu/~amaas/data/sentiment/")
    card.get_by_label("Licence (SPDX)").fill("not-a-licence")
    page.locator("#import-file").set_input_files(public_file)
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#import-error")).to_contain_text("licence")  # refused, nothing stored
    assert not ProvenanceSource.objects.exists() and not Item.objects.filter(project=project).exists()
    card.get_by_label("Licence (SPDX)").fill("cc-by-4.0")
    shot(page, "provenance-import-new-source")
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#import-status")).to_contain_text("Imported 6 items")
    public = ProvenanceSource.objects.get(project=project, name="IMDb reviews")
    assert public.terms["licence"] == "CC-BY-4.0"

    # Users' data under consent.
    page.get_by_role("button", name="Import another file").click()
    card.get_by_label("Source", exact=True).select_option("new")
    card.get_by_label("Source name").fill("App feedback")
    card.get_by_label("Kind", exact=True).select_option("user")
    card.get_by_label("Legal basis (GDPR Art. 6)").select_option("consent")
    card.get_by_label("Consent", exact=True).select_option("granted")
    _upload(page, user_file, 6)
    user = ProvenanceSource.objects.get(project=project, name="App feedback")
    assert Item.objects.filter(project=project, provenance_source=user, consent="granted").count() == 6

    page.goto(f"/projects/{project.id}/data/?provenance_kind=public#items")
    expect(page.locator("#item-table tbody tr")).to_have_count(6)
    expect(page.locator("#item-table tbody tr").first).to_contain_text("IMDb reviews · public")
    shot(page, "provenance-data-tab")

    lab.items = list(Item.objects.filter(project=project))
    label_everything(lab, pattern)
    quality_compute(project_id=project.id, full=True)

    page.goto(f"/projects/{project.id}/releases/")
    page.get_by_label("Name", exact=True).fill("v1")
    page.locator("#release-licence").fill("CC-BY-4.0")
    page.get_by_role("button", name="Create release").click()
    expect(page.get_by_role("heading", name="Release 1: v1")).to_contain_text("Published")
    release = Release.objects.get(project=project, number=1)
    shot(page, "provenance-release")

    with page.expect_download() as download:
        page.get_by_role("link", name="DATASHEET.md", exact=True).click()
    datasheet = Path(download.value.path()).read_text()
    public_section = datasheet.split("#### 2.1 Publicly available datasets")[1].split("####")[0]
    assert "IMDb reviews: 6 items, licence CC\\-BY\\-4.0" in public_section
    assert "ai.stanford.edu" in public_section
    user_section = datasheet.split("#### 2.4 User data")[1].split("####")[0]
    assert "App feedback: 6 items" in user_section and "legal basis (GDPR Art. 6) consent" in user_section

    with page.expect_download() as download:
        page.get_by_role("link", name="AI_RMF.json", exact=True).click()
    rmf = json.loads(Path(download.value.path()).read_bytes())
    rows = {row["id"]: row for row in rmf["subcategories"]}
    assert rows["MAP 2.3"]["status"] == "evidenced"
    assert rows["MAP 2.3"]["facts"]["provenance_kinds"] == {"public": 6, "user": 6}
    assert rows["MEASURE 2.10"]["facts"]["user_data_legal_bases"] == {"App feedback": "consent"}
    assert release.files.filter(path="AI_RMF.json").exists()
