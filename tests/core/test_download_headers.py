# ruff: noqa: F811 - the lab/release_storage fixtures are imported from tests.exports.test_release_service
"""Every download endpoint answers with core.downloads' protection: an attachment (raster media
excepted: <img> shows it inline), no sniffing, a sandboxing CSP, same-origin embedding only.

The list of download endpoints is checked against the OpenAPI schema: an endpoint documented with a
file body (anything but JSON) must be listed here, so a new download cannot skip the protection."""

import re

import pytest
import yaml
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client

from annotation.models import ImportJob, Item
from core.downloads import DOWNLOAD_HEADERS
from exports.models import Release
from quality import services as quality_services
from tests.annotation.media_samples import local_storage_fixture, png_bytes, wav_bytes  # noqa: F401
from tests.annotation.workflow_kit import make_lab
from tests.exports.test_release_service import lab, release_storage  # noqa: F401 - fixtures
from tests.factories import make_items
from tests.quality.test_quality_service import label_everything, pattern

pytestmark = pytest.mark.django_db

# path template in the OpenAPI schema -> the fixture that answers one real download from it
DOWNLOADS = {
    "/api/projects/{}/imports/{}/errors/": "import_errors",
    "/api/projects/{}/items/{}/media/": "item_media_audio",
    "/api/projects/{}/items-export/": "items_export",
    "/api/projects/{}/quality/tables/{}.csv": "quality_table",
    "/api/projects/{}/releases/{}/files/{}": "release_file",
}
INLINE = {"item_media_image"}  # raster images only


def _stored_item(project, name: str, content: bytes, media_type: str) -> Item:
    stored = default_storage.save(f"media/test/{name}", ContentFile(content))
    return Item.objects.create(
        project=project,
        data={"file": name, "media_type": media_type},
        content_hash=f"{stored:x<64}"[:64],
        media=stored,
        media_type=media_type,
    )


@pytest.fixture
def import_errors(people, client_for, local_storage):
    job = ImportJob.objects.create(project=people.project, format="jsonl", status="failed", original_name="x")
    job.error_report.save("errors.csv", ContentFile(b"line,field,reason\n2,,not JSON\n"))
    return client_for(people.manager).get(f"/api/projects/{people.project.id}/imports/{job.id}/errors/")


@pytest.fixture
def item_media_audio(people, client_for, local_storage):
    item = _stored_item(people.project, "clip.wav", wav_bytes(), "audio")
    return client_for(people.manager).get(f"/api/projects/{people.project.id}/items/{item.id}/media/")


@pytest.fixture
def item_media_image(people, client_for, local_storage):
    item = _stored_item(people.project, "cat.png", png_bytes(), "image")
    return client_for(people.manager).get(f"/api/projects/{people.project.id}/items/{item.id}/media/")


@pytest.fixture
def items_export(people, client_for):
    make_items(people.project, "one", "two")
    return client_for(people.manager).get(f"/api/projects/{people.project.id}/items-export/")


@pytest.fixture
def quality_table(people):
    quality_lab = make_lab(people, overlap=3, annotators=3, items=2)
    label_everything(quality_lab, pattern)
    quality_services.quality_compute(project_id=quality_lab.project.id, full=True)
    return quality_lab.client(people.manager).get(quality_lab.url("quality/tables/annotators.csv"))


@pytest.fixture
def release_file(people, lab, client_for, django_capture_on_commit_callbacks):
    client = client_for(people.manager)
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(
            f"/api/projects/{people.project.id}/releases/", {"name": "v1", "formats": ["csv"]}, format="json"
        )
    assert created.status_code == 202, created.content
    assert Release.objects.get(project=people.project, number=1).status == "published"
    return client.get(f"/api/projects/{people.project.id}/releases/1/files/jsonl/train.jsonl")


@pytest.mark.parametrize("download", [*DOWNLOADS.values(), *INLINE])
def test_every_download_is_protected(download, request):
    response = request.getfixturevalue(download)

    assert response.status_code == 200, getattr(response, "content", b"")[:300]
    assert {name: response.get(name) for name in DOWNLOAD_HEADERS} == {
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox",
        "Cross-Origin-Resource-Policy": "same-origin",
    }
    disposition = response["Content-Disposition"]
    assert disposition.startswith("inline;" if download in INLINE else "attachment;"), disposition
    assert 'filename="' in disposition


def test_every_documented_download_is_listed_above():
    document = yaml.safe_load(Client().get("/api/schema/").content)
    downloads = set()
    for path, operations in document["paths"].items():
        for operation in operations.values():
            for answer in operation.get("responses", {}).values():
                if set(answer.get("content", {})) - {"application/json"}:
                    downloads.add(re.sub(r"\{[^}]+\}", "{}", path))

    assert downloads == set(DOWNLOADS)
