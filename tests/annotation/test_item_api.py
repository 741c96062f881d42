"""Imports and items over the REST API: upload, status, error report, filters, search, keyset paging."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from annotation.models import ImportJob, Item, MetadataField

pytestmark = pytest.mark.django_db(transaction=True)  # the import runs after a real commit


def _upload(client, project, content: bytes, name="items.jsonl", **fields):
    return client.post(
        f"/api/projects/{project.id}/imports/",
        {"file": SimpleUploadedFile(name, content), **fields},
        format="multipart",
    )


def _lines(n: int, **meta) -> bytes:
    return "".join(
        json.dumps(
            {
                "text": f"Review number {i} about the {'camera' if i % 2 else 'battery'}",
                "meta": {**meta, "i": i},
            }
        )
        + "\n"
        for i in range(n)
    ).encode()


def test_manager_uploads_and_reads_the_finished_job(people, client_for):
    client = client_for(people.manager)

    response = _upload(client, people.project, _lines(3, language="en"), licence="CC0-1.0")

    assert response.status_code == 202
    body = response.json()
    assert {
        k: body[k] for k in ("status", "format", "mode", "received", "created", "duplicates", "rejected")
    } == {
        "status": "succeeded",
        "format": "jsonl",
        "mode": "all_or_nothing",
        "received": 3,
        "created": 3,
        "duplicates": 0,
        "rejected": 0,
    }
    assert body["defaults"] == {"licence": "CC0-1.0", "synthetic": False}  # a form leaves a checkbox false
    assert body["error_report_url"] is None and body["progress"] is None
    job = client.get(f"/api/projects/{people.project.id}/imports/{body['id']}/").json()
    assert job["created"] == 3


def test_failed_import_offers_the_error_report(people, client_for):
    client = client_for(people.manager)

    body = _upload(client, people.project, b'{"text": "ok"}\n{broken\n').json()

    assert body["status"] == "failed"
    assert body["error_report_url"] == f"/api/projects/{people.project.id}/imports/{body['id']}/errors/"
    report = client.get(body["error_report_url"])
    assert report.status_code == 200
    assert report["Content-Type"] == "text/csv"
    assert report["Content-Disposition"] == f'attachment; filename="import-{body["id"]}-errors.csv"'
    assert b"".join(report.streaming_content).decode().splitlines()[0] == "line,field,reason"
    assert Item.objects.count() == 0


@pytest.mark.parametrize(
    ("role", "expected"), [("reviewer", 403), ("annotator", 403), ("org_member", 404), ("outsider", 404)]
)
def test_only_managers_may_import(people, client_for, role, expected):
    response = _upload(client_for(people.by_role(role)), people.project, _lines(1))

    assert response.status_code == expected
    assert ImportJob.objects.count() == 0


def test_upload_errors_are_clear(people, client_for, settings):
    client = client_for(people.manager)
    settings.ANNOTATION_IMPORT_MAX_BYTES = 5

    too_big = _upload(client, people.project, _lines(1))
    missing = client.post(f"/api/projects/{people.project.id}/imports/", {}, format="multipart")
    as_json = client.post(f"/api/projects/{people.project.id}/imports/", {"file": "x"}, format="json")

    assert too_big.status_code == 413
    assert too_big.json()["code"] == "file_too_large"
    assert missing.status_code == 400 and missing.json()["code"] == "invalid"
    assert as_json.status_code == 415 and as_json.json()["code"] == "unsupported_media_type"
    assert ImportJob.objects.count() == 0


def test_items_filter_search_sort_and_page(people, client_for):
    client = client_for(people.manager)
    _upload(client, people.project, _lines(7, language="en"))
    MetadataField.objects.filter(project=people.project, name="i").update(type="number")
    url = f"/api/projects/{people.project.id}/items/"

    first = client.get(url, {"page_size": 3}).json()
    second = client.get(first["next"]).json()
    cameras = client.get(url, {"q": "camera"}).json()
    high = client.get(url, {"meta.i__gte": "5", "ordering": "-meta.i"}).json()
    english = client.get(url, {"meta.language": "en", "page_size": 1}).json()

    assert [item["meta"]["i"] for item in first["results"]] == [0, 1, 2]
    assert [item["meta"]["i"] for item in second["results"]] == [3, 4, 5]
    assert [item["meta"]["i"] for item in cameras["results"]] == [1, 3, 5]
    assert [item["meta"]["i"] for item in high["results"]] == [6, 5]
    assert len(english["results"]) == 1


def test_bad_item_filters_are_400(people, client_for):
    client = client_for(people.manager)
    url = f"/api/projects/{people.project.id}/items/"
    _upload(client, people.project, _lines(1))

    assert client.get(url, {"ordering": "data"}).json()["code"] == "invalid_ordering"
    assert client.get(url, {"meta.i__gte": "x"}).json()["code"] == "invalid_filter"
    assert client.get(url, {"synthetic": "maybe"}).status_code == 400


def test_items_of_other_projects_are_404(people, client_for):
    client = client_for(people.manager)
    _upload(client_for(people.outsider), people.other_project, _lines(1))
    other_item = Item.objects.get(project=people.other_project)

    assert client.get(f"/api/projects/{people.project.id}/items/{other_item.id}/").status_code == 404
    assert client.get(f"/api/projects/{people.other_project.id}/items/").status_code == 404
    assert client_for(people.annotator).get(f"/api/projects/{people.project.id}/items/").status_code == 403


def test_manager_retypes_a_metadata_field(people, client_for):
    client = client_for(people.manager)
    _upload(client, people.project, _lines(2, language="en"))
    field = MetadataField.objects.get(project=people.project, name="language")

    response = client.patch(
        f"/api/projects/{people.project.id}/metadata-fields/{field.id}/", {"type": "string"}, format="json"
    )
    refused = client_for(people.reviewer).patch(
        f"/api/projects/{people.project.id}/metadata-fields/{field.id}/", {"type": "date"}, format="json"
    )

    assert response.status_code == 200
    assert response.json() == {
        "id": field.id,
        "name": "language",
        "type": "string",
        "inferred": False,
        "categories": ["en"],
    }
    assert refused.status_code == 403
    field.refresh_from_db()
    assert field.type == "string"


def test_metadata_types_of_an_archived_project_cannot_change(people, client_for):
    client = client_for(people.manager)
    _upload(client, people.project, _lines(2, language="en"))
    field = MetadataField.objects.get(project=people.project, name="language")
    client.post(f"/api/projects/{people.project.id}/archive/")

    response = client.patch(
        f"/api/projects/{people.project.id}/metadata-fields/{field.id}/", {"type": "string"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "project_archived"
    field.refresh_from_db()
    assert (field.type, field.inferred) == ("category", True)


def test_search_finds_an_item_by_its_external_id(people, client_for):
    """Managers know items by their external ids: typing one in the Data tab's search finds it."""
    client = client_for(people.manager)
    rows = [{"id": f"pref-{i}", "text": f"Prompt {i} about the weather"} for i in range(4)]
    lines = b"".join(json.dumps(row).encode() + b"\n" for row in rows)
    _upload(client, people.project, lines)
    url = f"/api/projects/{people.project.id}/items/"

    by_key = client.get(url, {"q": "pref-2"}).json()
    by_words = client.get(url, {"q": "weather prompt"}).json()

    assert [item["external_id"] for item in by_key["results"]] == ["pref-2"]
    assert len(by_words["results"]) == 4
