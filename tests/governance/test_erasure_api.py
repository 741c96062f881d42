"""/api/projects/<id>/erasures/: org admins only, 400s with codes, 404 outside the organisation, dry run."""

import pytest

from annotation.models import Item, MetadataField
from governance.models import Erasure
from tests.factories import make_items

pytestmark = pytest.mark.django_db


@pytest.fixture
def items(people):
    MetadataField.objects.create(project=people.project, name="customer", type="string")
    return make_items(
        people.project,
        {"text": "a", "meta": {"customer": "c-1"}},
        {"text": "b", "meta": {"customer": "c-1"}},
        {"text": "c", "meta": {"customer": "c-2"}},
    )


def url(project) -> str:
    return f"/api/projects/{project.id}/erasures/"


@pytest.mark.parametrize(
    ("role", "status"),
    [("manager", 403), ("reviewer", 403), ("annotator", 403), ("org_member", 404), ("outsider", 404)],
)
def test_only_org_admins_erase(people, items, client_for, role, status):
    client = client_for(people.by_role(role))
    response = client.post(
        url(people.project), {"scope": "item", "item_ids": [items[0].id], "reason": "r"}, format="json"
    )
    assert response.status_code == status
    assert Item.objects.filter(id=items[0].id).exists()


def test_an_admin_of_another_organisation_gets_404(people, items, client_for):
    client = client_for(people.outsider)  # admin of Globex
    response = client.post(
        url(people.project), {"scope": "item", "item_ids": [items[0].id], "reason": "r"}, format="json"
    )
    assert response.status_code == 404 and response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"scope": "item", "item_ids": [1]}, "erasure_reason_required"),
        ({"scope": "item", "item_ids": [1], "reason": " "}, "erasure_reason_required"),
        ({"scope": "item", "reason": "r"}, "invalid_item_ids"),
        ({"scope": "item", "item_ids": [987654], "reason": "r"}, "unknown_items"),
        ({"scope": "subject", "key": "nope", "value": "x", "reason": "r"}, "unknown_key"),
        ({"scope": "subject", "key": "customer", "reason": "r"}, "invalid_subject"),
        ({"scope": "subject", "key": "customer", "value": {"a": 1}, "reason": "r"}, "invalid_value"),
        ({"scope": "source", "reason": "r"}, "invalid_source"),
        ({"scope": "source", "import_job": 424242, "reason": "r"}, "unknown_source"),
        ({"scope": "everything", "reason": "r"}, "invalid"),
        ({"scope": "item", "item_ids": [1], "reason": "r", "typo": 1}, None),
    ],
)
def test_bad_input_is_a_400_with_a_code_and_changes_nothing(people, items, client_for, body, code):
    response = client_for(people.org_admin).post(url(people.project), body, format="json")
    assert response.status_code == 400, response.content
    if code:
        assert response.json()["code"] == code
    assert response.json()["detail"]
    assert Item.objects.filter(project=people.project).count() == 3
    assert not Erasure.objects.exists()


def test_dry_run_then_erase_a_subject_then_list(people, items, client_for):
    client = client_for(people.org_admin)
    body = {"scope": "subject", "key": "customer", "value": "c-1", "reason": "GDPR request 7"}
    dry = client.post(url(people.project), {**body, "dry_run": True}, format="json")
    assert dry.status_code == 200
    assert dry.json() | {"deleted": None} == {
        "dry_run": True,
        "scope": "subject",
        "items": 2,
        "already_erased": 0,
        "deleted": None,
        "releases": [],
        "erasure_id": None,
    }
    assert Item.objects.filter(project=people.project).count() == 3

    done = client.post(url(people.project), body, format="json")
    assert done.status_code == 200 and done.json()["items"] == 2 and done.json()["erasure_id"]
    again = client.post(url(people.project), body, format="json")
    assert again.json()["items"] == 0  # nothing matched now: 200 with zero

    listed = client.get(url(people.project)).json()["results"]
    assert len(listed) == 1
    assert listed[0]["reason"] == "GDPR request 7" and listed[0]["items"] == 2
    assert listed[0]["detail"]["key"] == "customer" and "c-1" not in str(listed[0])
    assert client_for(people.manager).get(url(people.project)).status_code == 403
