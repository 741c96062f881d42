"""Personal data end to end (API): detection job, findings, review, counts, masking for annotators and
reviewers with offsets mapped back, the import schedule, settings validation."""

import pytest
from rest_framework.test import APIClient

from annotation.models import Annotation, PiiFinding
from annotation.pii.services import DETECT_TASK, pii_detect
from core.models import AuditEvent, OutboxMessage
from projects import services
from tests.factories import make_items

pytestmark = pytest.mark.django_db

TEXT = "Write to jane.doe@example.com or call +1 415-555-2671 about order 42."
EMAIL, PHONE = "jane.doe@example.com", "+1 415-555-2671"


def client(user) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    return c


def url(project, suffix=""):
    return f"/api/projects/{project.id}/pii-findings/{suffix}"


def set_privacy(people, **knobs):
    project = people.project
    project.refresh_from_db()
    services.project_update(
        project=project, actor=people.manager, settings={**project.settings, "privacy": knobs}
    )
    project.refresh_from_db()


def spans_schema():
    return {
        "version": 1,
        "fields": [{"name": "text", "type": "text"}],
        "controls": [
            {
                "name": "ner",
                "type": "spans",
                "field": "text",
                "labels": [{"value": "CONTACT"}, {"value": "NUM"}],
            }
        ],
    }


def test_detection_is_idempotent_and_keeps_reviews(people):
    (item,) = make_items(people.project, TEXT)
    make_items(people.project, "nothing personal here")
    counts = pii_detect(project_id=people.project.id)
    assert counts == {"items": 2, "created": 2, "removed": 0}
    found = {f.type: f for f in PiiFinding.objects.filter(item=item)}
    assert set(found) == {"EMAIL", "PHONE"}
    assert TEXT[found["EMAIL"].start : found["EMAIL"].end] == EMAIL
    response = client(people.manager).post(
        url(people.project, f"{found['PHONE'].id}/review/"), {"status": "dismissed"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "dismissed"
    assert response.json()["value"] == PHONE and response.json()["reviewed_by"] == "manager"
    assert pii_detect(project_id=people.project.id) == {"items": 2, "created": 0, "removed": 0}
    assert PiiFinding.objects.get(pk=found["PHONE"].id).status == "dismissed"
    assert AuditEvent.objects.filter(action="pii.finding_reviewed").count() == 1
    assert AuditEvent.objects.filter(action="pii.detected").count() == 2  # each scan is evidence


def test_summary_counts_per_type_and_item_filter(people):
    make_items(people.project, TEXT, "mail a@b.io", "plain")
    pii_detect(project_id=people.project.id)
    body = client(people.manager).get(url(people.project, "summary/")).json()
    assert body["items_with_personal_data"] == 2
    assert {row["type"]: row["open"] for row in body["types"]} == {"EMAIL": 2, "PHONE": 1}
    listed = client(people.manager).get(url(people.project), {"type": "EMAIL"}).json()
    assert listed["count"] == 2


@pytest.mark.parametrize(
    ("role", "expected"),
    [("org_admin", 200), ("manager", 200), ("reviewer", 403), ("annotator", 403), ("outsider", 404)],
)
def test_findings_are_for_managers_only(people, role, expected):
    assert client(getattr(people, role)).get(url(people.project, "summary/")).status_code == expected


def test_detect_request_queues_the_job_and_bad_input_is_400(people):
    response = client(people.manager).post(url(people.project, "detect/"))
    assert response.status_code == 202
    assert OutboxMessage.objects.filter(task_name=DETECT_TASK).count() == 1
    (item,) = make_items(people.project, TEXT)
    pii_detect(project_id=people.project.id)
    finding = PiiFinding.objects.filter(item=item).first()
    bad = client(people.manager).post(
        url(people.project, f"{finding.id}/review/"), {"status": "maybe"}, format="json"
    )
    assert bad.status_code == 400
    assert client(people.manager).get(url(people.project), {"item": "x"}).json()["code"] == "invalid_item"
    other = client(people.outsider).post(
        url(people.project, f"{finding.id}/review/"), {"status": "confirmed"}
    )
    assert other.status_code == 404


@pytest.mark.parametrize(
    "privacy",
    [
        {"release_policy": "shred"},
        {"mask_for_annotators": "yes"},
        {"patterns": [{"name": "BAD", "pattern": "(unclosed"}]},
        {"patterns": [{"name": "EMAIL", "pattern": "x"}]},
        {"word_lists": [{"name": "NAMES", "words": []}]},
        {"default_region": "Mars"},
        {"unknown_knob": 1},
    ],
)
def test_bad_privacy_settings_are_400_and_change_nothing(people, privacy):
    response = client(people.manager).patch(
        f"/api/projects/{people.project.id}/", {"settings": {"privacy": privacy}}, format="json"
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] in {"invalid_settings", "unknown_setting"}
    people.project.refresh_from_db()
    assert "privacy" not in people.project.settings


def test_annotator_sees_placeholders_and_spans_map_back(people):
    services.schema_version_create(project=people.project, actor=people.manager, definition=spans_schema())
    (item,) = make_items(people.project, TEXT)
    pii_detect(project_id=people.project.id)
    set_privacy(people, mask_for_annotators=True)
    response = client(people.annotator).post(f"/api/projects/{people.project.id}/queue/next/")
    raw = response.content.decode()
    assert EMAIL not in raw and "415-555-2671" not in raw
    masked = response.json()["assignment"]["item"]["data"]["text"]
    assert masked == "Write to [EMAIL] or call [PHONE] about order 42."
    assignment = response.json()["assignment"]["id"]
    retrieved = client(people.annotator).get(f"/api/projects/{people.project.id}/assignments/{assignment}/")
    assert EMAIL not in retrieved.content.decode()
    # Spans made on the masked text: one over the placeholder, one over "order 42".
    p = masked.index("[EMAIL]")
    o = masked.index("order 42")
    result = {
        "ner": [
            {"id": "a", "start": p, "end": p + 7, "label": "CONTACT", "text": "[EMAIL]"},
            {"id": "b", "start": o, "end": o + 8, "label": "NUM", "text": "order 42"},
        ]
    }
    submitted = client(people.annotator).post(
        f"/api/projects/{people.project.id}/assignments/{assignment}/submit/",
        {"result": result},
        format="json",
    )
    assert submitted.status_code in (200, 201), submitted.content
    stored = Annotation.objects.get(item=item).result["ner"]
    assert [TEXT[s["start"] : s["end"]] for s in stored] == [EMAIL, "order 42"]
    assert stored[0]["text"] == EMAIL


def test_managers_see_raw_values_and_masking_off_changes_nothing(people):
    services.schema_version_create(project=people.project, actor=people.manager, definition=spans_schema())
    make_items(people.project, TEXT, TEXT + " Again.")
    pii_detect(project_id=people.project.id)
    set_privacy(people, mask_for_annotators=True)
    response = client(people.manager).post(f"/api/projects/{people.project.id}/queue/next/")
    assert EMAIL in response.content.decode()
    set_privacy(people, mask_for_annotators=False)
    response = client(people.annotator).post(f"/api/projects/{people.project.id}/queue/next/")
    assert EMAIL in response.content.decode()


def test_dismissed_findings_are_not_masked(people):
    services.schema_version_create(project=people.project, actor=people.manager, definition=spans_schema())
    (item,) = make_items(people.project, TEXT)
    pii_detect(project_id=people.project.id)
    PiiFinding.objects.filter(item=item, type="PHONE").update(status="dismissed")
    set_privacy(people, mask_for_annotators=True)
    text = (
        client(people.annotator)
        .post(f"/api/projects/{people.project.id}/queue/next/")
        .json()["assignment"]["item"]["data"]["text"]
    )
    assert text == f"Write to [EMAIL] or call {PHONE} about order 42."


def test_an_import_runs_detection_in_the_worker(people, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("rows.jsonl", b'{"text": "mail a@b.io"}\n{"text": "nothing"}\n')
    with django_capture_on_commit_callbacks(execute=True):
        response = client(people.manager).post(
            f"/api/projects/{people.project.id}/imports/", {"file": upload}, format="multipart"
        )
    assert response.status_code in (201, 202), response.content
    assert OutboxMessage.objects.filter(task_name=DETECT_TASK).exists()
    assert list(PiiFinding.objects.filter(project=people.project).values_list("type", flat=True)) == ["EMAIL"]


def test_reviewers_are_masked_only_when_the_project_says_so(people):
    services.schema_version_create(project=people.project, actor=people.manager, definition=spans_schema())
    (item,) = make_items(people.project, TEXT)
    pii_detect(project_id=people.project.id)
    set_privacy(people, mask_for_annotators=True)
    items_url = f"/api/projects/{people.project.id}/items/"
    assert EMAIL in client(people.reviewer).get(items_url).content.decode()
    set_privacy(people, mask_for_annotators=True, mask_for_reviewers=True)
    for url in (items_url, f"{items_url}{item.id}/", f"/api/projects/{people.project.id}/data/"):
        if url.endswith("/data/"):
            c = APIClient()
            c.force_login(people.reviewer)
            body = c.get(f"/projects/{people.project.id}/data/").content.decode()
            item_page = c.get(f"/projects/{people.project.id}/items/{item.id}/").content.decode()
            assert EMAIL not in body and EMAIL not in item_page and "[EMAIL]" in item_page
        else:
            body = client(people.reviewer).get(url).content.decode()
            assert EMAIL not in body and "[EMAIL]" in body
    assert EMAIL in client(people.manager).get(items_url).content.decode()
    assert [
        r["id"] for r in client(people.manager).get(items_url, {"personal_data": "true"}).json()["results"]
    ] == [item.id]
    filtered = client(people.manager).get(items_url, {"personal_data": "false"}).json()
    assert filtered["results"] == []


def test_review_payload_is_masked_for_reviewers_when_set(people):
    services.schema_version_create(project=people.project, actor=people.manager, definition=spans_schema())
    (item,) = make_items(people.project, TEXT)
    pii_detect(project_id=people.project.id)
    people.project.refresh_from_db()
    services.project_update(
        project=people.project,
        actor=people.manager,
        settings={
            "labeling": {"review_fraction": 1.0},
            "privacy": {"mask_for_annotators": True, "mask_for_reviewers": True},
        },
    )
    base = f"/api/projects/{people.project.id}"
    assignment = client(people.annotator).post(f"{base}/queue/next/").json()["assignment"]
    masked = assignment["item"]["data"]["text"]
    p = masked.index("[EMAIL]")
    result = {"ner": [{"id": "a", "start": p, "end": p + 7, "label": "CONTACT", "text": "[EMAIL]"}]}
    submitted = client(people.annotator).post(
        f"{base}/assignments/{assignment['id']}/submit/", {"result": result}, format="json"
    )
    assert submitted.status_code == 201 and EMAIL not in submitted.content.decode()
    stored = Annotation.objects.get(item=item).result["ner"][0]
    assert TEXT[stored["start"] : stored["end"]] == EMAIL
    review = client(people.reviewer).post(f"{base}/review/next/")
    body = review.content.decode()
    assert review.status_code == 200, body
    assert review.json()["item"]["id"] == item.id
    assert EMAIL not in body and PHONE not in body
    span = review.json()["annotations"][0]["result"]["ner"][0]
    assert masked[span["start"] : span["end"]] == "[EMAIL]" == span["text"]
    # The manager sees the stored answer on the original text.
    history = client(people.manager).get(
        f"{base}/annotations/{review.json()['annotations'][0]['id']}/history/"
    )
    assert EMAIL in history.content.decode()
