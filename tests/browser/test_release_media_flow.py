"""A release of an image project in the browser: photos uploaded through the Data tab, a release with
YOLO and a dataset card (a mistyped licence refused first), the published page with the licence and
the media, and a photo downloaded from the release byte for byte."""

import hashlib
import shutil
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from annotation.models import Item
from exports.models import Release
from projects import services as project_services
from quality.models import ConsensusResult
from tests.exports.test_release_media import SCHEMA

from .conftest import REPO_ROOT, shot

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"street-1.png": (320, 200), "street-2.png": (240, 160), "street-3.png": (300, 180)}


def _photos(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    contents = {}
    for n, (name, size) in enumerate(SIZES.items()):
        path = tmp_path / name
        Image.new("RGB", size, (40 * n, 120, 200 - 40 * n)).save(path, format="PNG")
        contents[name] = path.read_bytes()
    archive = tmp_path / "street.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for name, body in contents.items():
            handle.writestr(name, body)
    return archive, contents


def test_manager_releases_photos_with_their_media_and_a_dataset_card(page_for, people, tmp_path):
    project = people.project
    project_services.schema_version_create(project=project, actor=people.manager, definition=SCHEMA)
    archive, contents = _photos(tmp_path)

    page = page_for(people.manager)
    page.goto(f"/projects/{project.id}/data/")
    page.locator("#import-file").set_input_files(archive)
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#import-status")).to_contain_text("Imported 3 items")
    items = list(Item.objects.filter(project=project).order_by("id"))
    for item in items:  # what the quality worker would have stored after three annotators agreed
        ConsensusResult.objects.create(
            project=project,
            item=item,
            control="objects",
            method="box_consensus",
            method_version="1",
            answer=[{"x": 10, "y": 20, "width": 50, "height": 40, "label": "car"}],
            confidence=0.9,
            agreement=0.85,
            annotations=3,
        )

    page.get_by_role("navigation", name="Project").get_by_role("link", name="Releases").click()
    expect(page.get_by_label("Include media files")).to_be_checked()  # media are released by default
    page.get_by_label("Name", exact=True).fill("street-v1")
    page.get_by_label("yolo").check()
    page.get_by_label("Licence").fill("CC-BY-4")
    page.get_by_label("Languages").fill("en")
    page.get_by_label("Intended uses").fill("Training car detectors for daytime street scenes.")
    page.get_by_role("button", name="Create release").click()
    expect(page.get_by_role("alert")).to_contain_text("Unknown: CC-BY-4")
    assert not Release.objects.exists()
    expect(page.get_by_label("Intended uses")).to_have_value(
        "Training car detectors for daytime street scenes."
    )

    page.get_by_label("Licence").fill("cc-by-4.0")
    page.get_by_label("Licence").press("Tab")  # closes the list of suggested licences
    expect(page.get_by_label("yolo")).to_be_checked()  # the form kept what was chosen
    shot(page, "release-form-dataset-card")
    page.get_by_role("button", name="Create release").click()

    expect(page.get_by_role("heading", name="Release 1: street-v1")).to_contain_text("Published")
    card = page.locator(".release-card")
    expect(card).to_contain_text("CC-BY-4.0")
    expect(card).to_contain_text("3 files")
    expect(card).to_contain_text("Training car detectors")
    release = Release.objects.get(project=project)
    assert release.manifest["media"]["files"] == 3

    first = items[0]
    media_path = f"media/{first.id}.png"
    with page.expect_download() as download:
        page.get_by_role("link", name=media_path, exact=True).click()
    body = Path(download.value.path()).read_bytes()
    assert body == contents[first.data["file"]]
    assert hashlib.sha256(body).hexdigest() == release.files.get(path=media_path).sha256
    expect(page.get_by_role("link", name=f"yolo/images/unsplit/{first.id}.png", exact=True)).to_be_visible()

    page.get_by_role("button", name="Verify the stored files").click()
    expect(page.get_by_role("status").filter(has_text="Verified:")).to_be_visible()
    path = shot(page, "release-media")
    shutil.copyfile(path, REPO_ROOT / "docs" / "screenshots" / "release-media.png")
