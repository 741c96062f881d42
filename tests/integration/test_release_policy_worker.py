"""The release policy in a real Celery worker (#18): items whose consent was withdrawn (in bulk, from
the data manager's action), whose licence is non-commercial in a commercial release (per item), no
derivatives (from a CSV of ids) or share-alike under a non-SA release licence never reach the
published release; the manifest and datasheet count them by reason and excluded.jsonl lists them."""

import json

import pytest
from rest_framework.test import APIClient

from exports.models import Release
from projects import services as project_services
from quality.models import ConsensusResult
from tests.factories import label_schema, make_items

from .conftest import wait_for
from .test_release_worker import shared, worker  # noqa: F401  (fixture and the worker process)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_withdrawn_and_incompatible_items_never_reach_a_release(
    people,
    shared,  # noqa: F811
    redis_url,
    isolated_names,
    tmp_path,
):
    env, media_root = shared
    project = people.project
    project_services.schema_version_create(
        project=project, actor=people.manager, definition=label_schema("positive", "negative")
    )
    items = make_items(
        project,
        *[
            {"text": f"secret text {i:02d}", "external_id": f"doc-{i:02d}", "split": "train"}
            for i in range(20)
        ],
    )
    ConsensusResult.objects.bulk_create(
        ConsensusResult(
            project=project,
            item=item,
            control="sentiment",
            method="majority_vote",
            method_version="1",
            answer="positive",
            confidence=0.75,
            agreement=1.0,
        )
        for item in items
    )
    client = APIClient()
    client.force_authenticate(people.manager)
    base = f"/api/projects/{project.id}"
    # consent withdrawn on two items, as the data manager's bulk action does
    bulk = client.post(
        f"{base}/items-bulk/",
        {"action": "consent", "value": "withdrawn", "item_ids": [items[0].id, items[1].id]},
        format="json",
    )
    assert bulk.status_code == 200 and bulk.json()["changed"] == 2, bulk.content
    # a non-commercial licence on one item, per item
    one = client.patch(f"{base}/items/{items[2].id}/governance/", {"licence": "cc-by-nc-4.0"}, format="json")
    assert one.status_code == 200 and one.json()["licence"] == "CC-BY-NC-4.0", one.content
    # no-derivatives and share-alike from a CSV of external ids, with a bad row reported
    csv = "external_id,licence\ndoc-03,CC-BY-ND-4.0\ndoc-04,CC-BY-SA-4.0\ndoc-05,CC-BY-4.0\nnope,MIT\n"
    upload = client.post(f"{base}/items-governance-csv/", {"file": _file("ids.csv", csv)}, format="multipart")
    assert upload.status_code == 200, upload.content
    assert upload.json()["changed"] == 3 and upload.json()["errors"][0]["code"] == "unknown_item"

    with worker(env, isolated_names, redis_url, tmp_path / "worker.log"):
        response = client.post(
            f"{base}/releases/", {"name": "v1", "formats": ["jsonl"], "licence": "CC-BY-4.0"}, format="json"
        )
        assert response.status_code == 202, response.content
        wait_for(
            lambda: Release.objects.get(project=project, number=1).status == Release.Status.PUBLISHED,
            timeout=60,
            what="the build",
        )

    release = Release.objects.get(project=project, number=1)
    assert release.manifest["counts"]["records"] == 15
    assert release.manifest["release_policy"]["excluded"] == {
        "consent_withdrawn": 2,
        "licence_no_derivatives": 1,
        "licence_non_commercial": 1,
        "licence_share_alike": 1,
    }
    root = media_root / release.storage_prefix
    excluded = [json.loads(line) for line in (root / "excluded.jsonl").read_text().splitlines()]
    assert [(row["external_id"], row["reason"]) for row in excluded] == [
        ("doc-00", "consent_withdrawn"),
        ("doc-01", "consent_withdrawn"),
        ("doc-02", "licence_non_commercial"),
        ("doc-03", "licence_no_derivatives"),
        ("doc-04", "licence_share_alike"),
    ]
    released = b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())
    for i in range(5):
        assert f"secret text {i:02d}".encode() not in released  # no byte of an excluded item's content
    assert b"secret text 05" in released
    datasheet = (root / "DATASHEET.md").read_text()
    assert "Items left out by the release policy" in datasheet and "consent\\_withdrawn" in datasheet
    assert client.get(f"{base}/releases/1/verify/").json()["ok"] is True


def _file(name: str, text: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")
