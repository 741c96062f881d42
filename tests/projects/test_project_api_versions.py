"""The projects API end to end: schema and guideline versions and the audit log (projects, members,
other organisations' ids: test_project_api.py)."""

import pytest

from core.models import AuditEvent
from projects import services
from projects.models import (
    GuidelineVersion,
    LabelSchemaVersion,
)
from tests.factories import label_schema
from tests.projects.api_kit import iso, url, world_counts

pytestmark = pytest.mark.django_db

# --- Schema and guideline versions ----------------------------------------------------------------


def test_schema_versions_create_list_and_retrieve(people, manager_api):
    first = manager_api.post(
        url(people.project, "schema-versions/"),
        {"definition": label_schema("pos"), "note": "start"},
        format="json",
    )
    second = manager_api.post(
        url(people.project, "schema-versions/"), {"definition": label_schema("pos", "neg")}, format="json"
    )
    v1, v2 = LabelSchemaVersion.objects.filter(project=people.project).order_by("version")

    listed = manager_api.get(url(people.project, "schema-versions/"))
    one = manager_api.get(url(people.project, "schema-versions/1/"))

    def body(version, definition, note):
        return {
            "id": version.id,
            "version": version.version,
            "definition": definition,
            "note": note,
            "created_by": "manager",
            "created_at": iso(version.created_at),
        }

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json() == body(v1, label_schema("pos"), "start")
    assert second.json() == body(v2, label_schema("pos", "neg"), "")
    assert listed.status_code == 200
    assert listed.json() == {
        "count": 2,
        "next": None,
        "previous": None,
        "results": [second.json(), first.json()],
    }
    assert one.status_code == 200
    assert one.json() == first.json()


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (
            {"definition": ["pos", "neg"]},
            {"code": "invalid_schema", "detail": "A label schema must be a JSON object."},
        ),
        (
            {},
            {
                "code": "invalid",
                "detail": "definition: This field is required.",
                "errors": {"definition": ["This field is required."]},
            },
        ),
        (
            {"definition": {}, "version": 7},
            {
                "code": "unknown_field",
                "detail": "version: Unknown field.",
                "errors": {"version": ["Unknown field."]},
            },
        ),
        (
            {"definition": label_schema("pos", "<img src=x onerror=alert(1)>", "pos")},
            {
                "code": "invalid_schema",
                "detail": "The label schema has 2 problem(s); the first: controls[0].labels[1].value: "
                "The label '<img src=x onerror=alert(1)>' contains '<' or '>'; markup is not allowed.",
                "errors": [
                    {
                        "path": "controls[0].labels[1].value",
                        "code": "markup_in_label",
                        "message": "The label '<img src=x onerror=alert(1)>' contains '<' or '>'; "
                        "markup is not allowed.",
                    },
                    {
                        "path": "controls[0].labels[2].value",
                        "code": "duplicate_label",
                        "message": "The label 'pos' is listed twice.",
                    },
                ],
            },
        ),
    ],
    ids=["list", "missing", "version-given", "markup-and-duplicate"],
)
def test_schema_version_create_refuses_bad_input(people, manager_api, payload, expected):
    before = world_counts()

    response = manager_api.post(url(people.project, "schema-versions/"), payload, format="json")

    assert response.status_code == 400
    assert response.json() == expected
    assert world_counts() == before


def test_guideline_versions_create_list_and_retrieve(people, manager_api):
    created = [
        manager_api.post(url(people.project, "guideline-versions/"), {"body": body}, format="json")
        for body in ("# One", "# Two\n\nDetails.  ")
    ]
    v1, v2 = GuidelineVersion.objects.filter(project=people.project).order_by("version")

    listed = manager_api.get(url(people.project, "guideline-versions/"))
    two = manager_api.get(url(people.project, "guideline-versions/2/"))

    assert [response.status_code for response in created] == [201, 201]
    assert created[1].json() == {
        "id": v2.id,
        "version": 2,
        "body": "# Two\n\nDetails.  ",  # whitespace is kept: Markdown line breaks
        "note": "",
        "created_by": "manager",
        "created_at": iso(v2.created_at),
    }
    assert [v["version"] for v in listed.json()["results"]] == [2, 1]
    assert listed.json()["results"][1]["id"] == v1.id
    assert two.json() == created[1].json()


def test_guideline_version_with_an_empty_body_is_refused(people, manager_api):
    before = world_counts()

    response = manager_api.post(url(people.project, "guideline-versions/"), {"body": "   "}, format="json")

    assert response.status_code == 400
    assert response.json() == {"code": "empty_guidelines", "detail": "Guidelines cannot be empty."}
    assert world_counts() == before


# --- Audit log ------------------------------------------------------------------------------------


@pytest.fixture
def history(people):
    """Four audited writes in the organisation (and one elsewhere), oldest first."""
    second = services.project_create(organisation=people.organisation, actor=people.org_admin, name="Second")
    services.project_update(project=people.project, actor=people.manager, overlap=2)
    services.project_member_add(
        project=people.project, actor=people.manager, username="org_member", role="annotator"
    )
    services.schema_version_create(project=people.project, actor=people.manager, definition=label_schema())
    services.project_update(project=people.other_project, actor=people.outsider, overlap=3)
    return second


def event_body(event: AuditEvent) -> dict:
    return {
        "id": event.id,
        "created_at": iso(event.created_at),
        "actor": event.actor_label,
        "action": event.action,
        "project_id": event.project_id,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "changes": event.changes,
    }


def test_audit_log_lists_the_organisations_events_newest_first(people, admin_api, history):
    response = admin_api.get(f"/api/organisations/{people.organisation.id}/audit-events/")

    events = AuditEvent.objects.filter(organisation=people.organisation).order_by("-id")
    assert response.status_code == 200
    assert response.json() == {"next": None, "previous": None, "results": [event_body(e) for e in events]}
    assert [e["action"] for e in response.json()["results"]] == [
        "schema.version_created",
        "project_member.added",
        "project.updated",
        "project.created",
    ]


def test_audit_log_filters_by_action(people, admin_api, history):
    response = admin_api.get(
        f"/api/organisations/{people.organisation.id}/audit-events/?action=project.updated"
    )

    event = AuditEvent.objects.get(organisation=people.organisation, action="project.updated")
    assert response.json() == {"next": None, "previous": None, "results": [event_body(event)]}
    assert response.json()["results"][0]["changes"] == {"overlap": [1, 2]}


def test_audit_log_filters_by_project(people, admin_api, history):
    response = admin_api.get(
        f"/api/organisations/{people.organisation.id}/audit-events/?project={history.id}"
    )

    assert [(e["action"], e["project_id"]) for e in response.json()["results"]] == [
        ("project.created", history.id)
    ]


def test_audit_log_filters_by_actor(people, admin_api, history):
    response = admin_api.get(f"/api/organisations/{people.organisation.id}/audit-events/?actor=org_admin")

    assert [e["action"] for e in response.json()["results"]] == ["project.created"]


def test_audit_log_pages_with_a_cursor(people, admin_api, history):
    first = admin_api.get(f"/api/organisations/{people.organisation.id}/audit-events/?page_size=3")

    second = admin_api.get(first.json()["next"])

    assert [e["action"] for e in first.json()["results"]] == [
        "schema.version_created",
        "project_member.added",
        "project.updated",
    ]
    assert [e["action"] for e in second.json()["results"]] == ["project.created"]
    assert second.json()["next"] is None
