"""Consent and licence of items (#18): per item, in bulk and from a CSV of ids; idempotent, audited
per item, managers only; bad input is a 400 naming the problem and changes nothing."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from annotation.items.consent import item_governance_set, items_governance_csv
from annotation.models import Item
from core.exceptions import Forbidden
from core.models import AuditEvent
from tests.factories import make_items

pytestmark = pytest.mark.django_db


def _history(item):
    return list(
        AuditEvent.objects.filter(target_type="annotation.item", target_id=str(item.id)).values_list(
            "action", "actor_label", "changes"
        )
    )


def test_set_is_audited_and_idempotent(people):
    (item,) = make_items(people.project, "a")
    item_governance_set(project=people.project, actor=people.manager, item_id=item.id, consent="withdrawn")
    item_governance_set(project=people.project, actor=people.manager, item_id=item.id, consent="withdrawn")
    item_governance_set(project=people.project, actor=people.manager, item_id=item.id, licence="cc-by-4.0")
    item.refresh_from_db()
    assert (item.consent, item.licence) == ("withdrawn", "CC-BY-4.0")
    assert _history(item) == [
        ("item.licence_changed", "manager", {"licence": ["", "CC-BY-4.0"]}),
        ("item.consent_changed", "manager", {"consent": ["unknown", "withdrawn"]}),
    ]


@pytest.mark.parametrize("role", ["reviewer", "annotator", "org_member"])
def test_only_managers_change_consent(people, role):
    (item,) = make_items(people.project, "a")
    with pytest.raises(Forbidden):
        item_governance_set(
            project=people.project, actor=people.by_role(role), item_id=item.id, consent="granted"
        )
    item_governance_set(project=people.project, actor=people.org_admin, item_id=item.id, consent="granted")


def test_api_per_item_and_its_400s(people, api_client):
    (item,) = make_items(people.project, "a")
    api_client.force_authenticate(people.manager)
    url = f"/api/projects/{people.project.id}/items/{item.id}/governance/"
    bad = api_client.patch(url, {"licence": "CC-BY-5.0"}, format="json")
    assert (
        bad.status_code == 400
        and bad.json()["code"] == "invalid_licence"
        and "CC-BY-5.0" in bad.json()["detail"]
    )
    bad = api_client.patch(url, {"consent": "maybe"}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_consent"
    bad = api_client.patch(url, {"consnet": "granted"}, format="json")
    assert bad.status_code == 400
    assert _history(item) == []
    ok = api_client.patch(url, {"consent": "granted", "licence": "MIT"}, format="json")
    assert ok.status_code == 200, ok.content
    body = api_client.get(url).json()
    assert (body["consent"], body["licence"], body["can_edit"]) == ("granted", "MIT", True)
    assert [h["action"] for h in body["history"]] == ["item.licence_changed", "item.consent_changed"]
    api_client.force_authenticate(people.outsider)
    assert api_client.patch(url, {"consent": "withdrawn"}, format="json").status_code == 404
    api_client.force_authenticate(people.reviewer)
    assert api_client.patch(url, {"consent": "withdrawn"}, format="json").status_code == 403


def test_bulk_by_ids_and_by_filter(people, api_client, django_capture_on_commit_callbacks):
    items = make_items(people.project, *[{"text": f"t{i}", "split": "a" if i < 3 else "b"} for i in range(5)])
    api_client.force_authenticate(people.manager)
    url = f"/api/projects/{people.project.id}/items-bulk/"
    bad = api_client.post(
        url, {"action": "licence", "value": "NOT-A-LICENCE", "item_ids": [items[0].id]}, format="json"
    )
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_licence"
    done = api_client.post(
        url, {"action": "consent", "value": "withdrawn", "item_ids": [items[0].id]}, format="json"
    )
    assert done.json()["changed"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        queued = api_client.post(
            url, {"action": "consent", "value": "withdrawn", "filters": {"split": "a"}}, format="json"
        )
    assert queued.status_code == 202
    assert sorted(Item.objects.filter(consent="withdrawn").values_list("id", flat=True)) == [
        i.id for i in items[:3]
    ]
    # one audit row per changed item, none for the item that already had the value
    assert AuditEvent.objects.filter(action="item.consent_changed").count() == 3
    api_client.force_authenticate(people.reviewer)
    assert (
        api_client.post(
            url, {"action": "consent", "value": "granted", "item_ids": [items[0].id]}, format="json"
        ).status_code
        == 403
    )


def test_csv_of_ids_reports_every_bad_row(people, api_client):
    items = make_items(people.project, *[{"text": f"t{i}", "external_id": f"doc-{i}"} for i in range(3)])
    (other,) = make_items(people.other_project, {"text": "theirs", "external_id": "doc-9"})
    csv = (
        "external_id,consent,licence\n"
        "doc-0,withdrawn,\n"  # applied
        "doc-1,,CC-BY-NC-4.0\n"  # applied
        "doc-0,granted,\n"  # duplicate
        "doc-2,perhaps,\n"  # bad consent
        "doc-2,,GPL-9\n"  # duplicate: a rejected row still claims its id
        ",granted,\n"  # no id
        "doc-9,granted,\n"  # another organisation's item: unknown here
        "doc-1,,\n"  # duplicate
    )
    api_client.force_authenticate(people.manager)
    url = f"/api/projects/{people.project.id}/items-governance-csv/"
    upload = SimpleUploadedFile("ids.csv", csv.encode(), content_type="text/csv")
    report = api_client.post(url, {"file": upload}, format="multipart").json()
    assert (report["rows"], report["changed"], report["rejected"]) == (8, 2, 6)
    assert [(e["row"], e["code"]) for e in report["errors"]] == [
        (4, "duplicate_row"),
        (5, "invalid_consent"),
        (6, "duplicate_row"),
        (7, "missing_id"),
        (9, "duplicate_row"),
        (8, "unknown_item"),
    ]
    other.refresh_from_db()
    assert other.consent == "unknown"
    items[0].refresh_from_db()
    assert items[0].consent == "withdrawn"
    again = items_governance_csv(project=people.project, actor=people.manager, content=csv)
    assert (again.changed, again.unchanged) == (0, 2)  # idempotent


def test_csv_without_an_id_column_is_a_400(people, api_client):
    api_client.force_authenticate(people.manager)
    upload = SimpleUploadedFile("ids.csv", b"name,consent\na,granted\n", content_type="text/csv")
    response = api_client.post(
        f"/api/projects/{people.project.id}/items-governance-csv/", {"file": upload}, format="multipart"
    )
    assert response.status_code == 400 and response.json()["code"] == "invalid_csv_header"


def test_release_policy_setting_400_names_the_problem(people, api_client):
    api_client.force_authenticate(people.manager)
    url = f"/api/projects/{people.project.id}/"
    bad = api_client.patch(url, {"settings": {"release": {"exclude_unknown_consent": "yes"}}}, format="json")
    assert bad.status_code == 400, bad.content
    assert "settings.release.exclude_unknown_consent" in bad.json()["detail"]
    bad = api_client.patch(url, {"settings": {"release": {"exclude_withdrawn": False}}}, format="json")
    assert bad.status_code == 400
    ok = api_client.patch(url, {"settings": {"release": {"exclude_unknown_consent": True}}}, format="json")
    assert ok.status_code == 200, ok.content
