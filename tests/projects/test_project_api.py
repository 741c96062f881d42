"""The projects API end to end: projects, members, versions, the audit log, and bad input."""

import pytest

from core.models import AuditEvent
from projects import services
from projects.models import (
    Project,
    ProjectMembership,
)
from projects.selectors import project_settings_warnings
from tests.factories import ProjectFactory, ProjectMembershipFactory, label_schema
from tests.projects.api_kit import NOT_FOUND, iso, url, world_counts

pytestmark = pytest.mark.django_db


def project_body(project: Project) -> dict:
    project = Project.objects.select_related("stats").get(pk=project.pk)
    stats = getattr(project, "stats", None)
    return {
        "id": project.id,
        "organisation": project.organisation_id,
        "name": project.name,
        "description": project.description,
        "overlap": project.overlap,
        "settings": project.settings,
        "warnings": project_settings_warnings(project=project),
        "is_archived": project.archived_at is not None,
        "archived_at": iso(project.archived_at),
        "stats": None if stats is None else {**stats.as_dict(), "computed_at": iso(stats.computed_at)},
        "created_at": iso(project.created_at),
        "updated_at": iso(project.updated_at),
    }


def member_body(membership: ProjectMembership) -> dict:
    return {
        "id": membership.id,
        "username": membership.user.username,
        "name": membership.user.get_full_name(),
        "email": membership.user.email,  # the callers here are managers
        "role": membership.role,
        "quota": None,
        "groups": [],
        "gold_rate": None,
        "paused_at": None,
        "paused_reason": "",
        "created_at": iso(membership.created_at),
    }


def project_state() -> list[tuple]:
    return list(Project.objects.order_by("id").values_list())


# --- Projects -------------------------------------------------------------------------------------


def test_create_returns_the_full_project(people, admin_api):
    payload = {
        "organisation": people.organisation.id,
        "name": "Support tickets",
        "description": "Route each ticket to a team.",
        "overlap": 3,
        "settings": {"labeling": {"lease_seconds": 300}},
    }

    response = admin_api.post("/api/projects/", payload, format="json")

    assert response.status_code == 201
    project = Project.objects.get(name="Support tickets")
    assert response.json() == {
        "id": project.id,
        "organisation": people.organisation.id,
        "name": "Support tickets",
        "description": "Route each ticket to a team.",
        "overlap": 3,
        "settings": {"labeling": {"lease_seconds": 300}},
        "warnings": [  # a new project has no annotators yet
            {
                "code": "overlap_exceeds_annotators",
                "setting": "overlap",
                "message": "Each item wants 3 annotators but the project has 0 active annotator(s): no "
                "item can be finished. Add annotators or lower the overlap.",
            }
        ],
        "is_archived": False,
        "archived_at": None,
        "stats": None,  # computed in the background after commit
        "created_at": iso(project.created_at),
        "updated_at": iso(project.updated_at),
    }
    assert list(project.memberships.values_list("user__username", "role")) == [("org_admin", "manager")]


def test_create_with_only_a_name_uses_defaults(people, admin_api):
    response = admin_api.post(
        "/api/projects/", {"organisation": people.organisation.id, "name": "Bare"}, format="json"
    )

    assert response.status_code == 201
    assert {k: response.json()[k] for k in ("description", "overlap", "settings")} == {
        "description": "",
        "overlap": 1,
        "settings": {},
    }


@pytest.mark.parametrize(
    ("payload", "status", "expected"),
    [
        (
            {"name": "Reviews"},
            409,
            {"code": "name_taken", "detail": "A project named 'Reviews' exists in this organisation."},
        ),
        (
            {"name": "Support", "overlap": 0},
            400,
            {
                "code": "invalid",
                "detail": "overlap: Ensure this value is greater than or equal to 1.",
                "errors": {"overlap": ["Ensure this value is greater than or equal to 1."]},
            },
        ),
        (
            {"name": "Support", "overlap": 51},
            400,
            {"code": "invalid_overlap", "detail": "Overlap must be between 1 and 50."},
        ),
        (
            {"name": "Support", "owner": "me"},
            400,
            {
                "code": "unknown_field",
                "detail": "owner: Unknown field.",
                "errors": {"owner": ["Unknown field."]},
            },
        ),
        (
            {"name": "n" * 201},
            400,
            {
                "code": "invalid",
                "detail": "name: Ensure this field has no more than 200 characters.",
                "errors": {"name": ["Ensure this field has no more than 200 characters."]},
            },
        ),
    ],
    ids=["name-taken", "overlap-0", "overlap-51", "unknown-field", "name-201"],
)
def test_create_refuses_bad_input_and_creates_nothing(people, admin_api, payload, status, expected):
    before = world_counts()

    response = admin_api.post(
        "/api/projects/", {"organisation": people.organisation.id, **payload}, format="json"
    )

    assert response.status_code == status
    assert response.json() == expected
    assert world_counts() == before


def test_create_in_another_organisation_is_not_found(people, admin_api):
    before = world_counts()

    response = admin_api.post(
        "/api/projects/", {"organisation": people.other_organisation.id, "name": "Takeover"}, format="json"
    )

    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert world_counts() == before


def test_list_shows_only_visible_projects(people, manager_api):
    elsewhere = ProjectFactory(organisation=people.organisation, name="Another team's project")

    response = manager_api.get("/api/projects/")

    assert response.status_code == 200
    assert response.json() == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [project_body(people.project)],
    }
    assert elsewhere.id not in [p["id"] for p in response.json()["results"]]


def test_list_hides_archived_projects_on_request(people, manager_api):
    old = ProjectFactory(organisation=people.organisation, name="Archive me")
    ProjectMembershipFactory(project=old, user=people.manager, role="manager")
    services.project_archive(project=old, actor=people.manager)

    everything = manager_api.get("/api/projects/")
    active = manager_api.get("/api/projects/?archived=false")

    assert [p["name"] for p in everything.json()["results"]] == ["Archive me", "Reviews"]
    assert [p["name"] for p in active.json()["results"]] == ["Reviews"]


def test_retrieve_includes_computed_stats(people, manager_api):
    services.project_stats_refresh(project_id=people.project.id)

    response = manager_api.get(url(people.project))

    assert response.status_code == 200
    assert response.json() == project_body(people.project)
    assert response.json()["stats"] | {"computed_at": None} == {
        "members": 3,
        "managers": 1,
        "reviewers": 1,
        "annotators": 1,
        "schema_versions": 0,
        "guideline_versions": 0,
        "computed_at": None,
    }


def test_patch_changes_the_project_and_audits_it(people, manager_api):
    response = manager_api.patch(
        url(people.project), {"name": "Product reviews", "overlap": 2}, format="json"
    )

    assert response.status_code == 200
    assert response.json() == project_body(people.project)
    assert (response.json()["name"], response.json()["overlap"]) == ("Product reviews", 2)
    event = AuditEvent.objects.get(action="project.updated")
    assert event.changes == {"name": ["Reviews", "Product reviews"], "overlap": [1, 2]}


@pytest.mark.parametrize(
    ("payload", "status", "expected"),
    [
        (
            {"archived_at": None},
            400,
            {
                "code": "unknown_field",
                "detail": "archived_at: Unknown field.",
                "errors": {"archived_at": ["Unknown field."]},
            },
        ),
        (
            {"name": "n" * 201},
            400,
            {
                "code": "invalid",
                "detail": "name: Ensure this field has no more than 200 characters.",
                "errors": {"name": ["Ensure this field has no more than 200 characters."]},
            },
        ),
        (
            {"overlap": 0},
            400,
            {
                "code": "invalid",
                "detail": "overlap: Ensure this value is greater than or equal to 1.",
                "errors": {"overlap": ["Ensure this value is greater than or equal to 1."]},
            },
        ),
        ({"overlap": 51}, 400, {"code": "invalid_overlap", "detail": "Overlap must be between 1 and 50."}),
        (
            {"settings": ["a"]},
            400,
            {
                "code": "invalid",
                "detail": 'settings: Expected a dictionary of items but got type "list".',
                "errors": {"settings": ['Expected a dictionary of items but got type "list".']},
            },
        ),
        (
            {"name": "Globex secrets", "organisation": 7},
            400,
            {
                "code": "unknown_field",
                "detail": "organisation: Unknown field.",
                "errors": {"organisation": ["Unknown field."]},
            },
        ),
    ],
    ids=["unknown-field", "name-201", "overlap-0", "overlap-51", "settings-list", "organisation"],
)
def test_patch_refuses_bad_input_and_leaves_the_project_unchanged(
    people, manager_api, payload, status, expected
):
    before = project_state()
    before_counts = world_counts()

    response = manager_api.patch(url(people.project), payload, format="json")

    assert response.status_code == status
    assert response.json() == expected
    assert project_state() == before
    assert world_counts() == before_counts


def test_patch_of_an_archived_project_is_a_conflict(people, manager_api):
    services.project_archive(project=people.project, actor=people.manager)
    before = project_state()

    response = manager_api.patch(url(people.project), {"name": "Renamed"}, format="json")

    assert response.status_code == 409
    assert response.json() == {
        "code": "project_archived",
        "detail": "This project is archived; unarchive it to make changes.",
    }
    assert project_state() == before


def test_put_is_not_offered(people, manager_api):
    response = manager_api.put(url(people.project), {"name": "Replaced"}, format="json")

    assert response.status_code == 405
    assert response.json() == {"code": "method_not_allowed", "detail": 'Method "PUT" not allowed.'}


def test_archive_and_unarchive(people, manager_api):
    archived = manager_api.post(url(people.project, "archive/"))
    archived_again = manager_api.post(url(people.project, "archive/"))
    project = Project.objects.get(pk=people.project.pk)
    archived_at = project.archived_at

    unarchived = manager_api.post(url(people.project, "unarchive/"))

    assert (archived.status_code, archived_again.status_code, unarchived.status_code) == (200, 200, 200)
    assert archived.json()["is_archived"] is True
    assert archived.json()["archived_at"] == iso(archived_at)
    assert archived_again.json()["archived_at"] == iso(archived_at)
    assert unarchived.json() == project_body(people.project)
    assert (unarchived.json()["is_archived"], unarchived.json()["archived_at"]) == (False, None)
    assert list(
        AuditEvent.objects.filter(project_id=people.project.id)
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["project.archived", "project.unarchived"]


# --- Members --------------------------------------------------------------------------------------


def test_members_list_is_ordered_by_username(people, manager_api):
    response = manager_api.get(url(people.project, "members/"))

    memberships = ProjectMembership.objects.filter(project=people.project).select_related("user")
    by_name = {m.user.username: m for m in memberships}
    assert response.status_code == 200
    assert response.json() == {
        "count": 3,
        "next": None,
        "previous": None,
        "results": [member_body(by_name[name]) for name in ["annotator", "manager", "reviewer"]],
    }


def test_member_add_change_and_remove(people, manager_api):
    added = manager_api.post(
        url(people.project, "members/"), {"username": "org_member", "role": "annotator"}, format="json"
    )
    membership = ProjectMembership.objects.get(project=people.project, user=people.org_member)

    changed = manager_api.patch(
        url(people.project, f"members/{membership.id}/"), {"role": "reviewer"}, format="json"
    )
    removed = manager_api.delete(url(people.project, f"members/{membership.id}/"))

    assert added.status_code == 201
    assert added.json() == {**member_body(membership), "role": "annotator"}
    assert changed.status_code == 200
    assert changed.json() == {**member_body(membership), "role": "reviewer"}
    assert removed.status_code == 204
    assert ProjectMembership.objects.filter(pk=membership.id).exists() is False
    assert list(
        AuditEvent.objects.filter(project_id=people.project.id)
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["project_member.added", "project_member.role_changed", "project_member.removed"]


@pytest.mark.parametrize(
    ("payload", "status", "expected"),
    [
        (
            {"username": "org_member", "role": "boss"},
            400,
            {
                "code": "invalid",
                "detail": 'role: "boss" is not a valid choice.',
                "errors": {"role": ['"boss" is not a valid choice.']},
            },
        ),
        (
            {"username": "outsider", "role": "annotator"},
            400,
            {"code": "unknown_user", "detail": "No member of this organisation is named 'outsider'."},
        ),
        (
            {"username": "reviewer", "role": "annotator"},
            409,
            {"code": "already_member", "detail": "reviewer is already a member of this project."},
        ),
        (
            {"username": "org_member"},
            400,
            {
                "code": "invalid",
                "detail": "role: This field is required.",
                "errors": {"role": ["This field is required."]},
            },
        ),
    ],
    ids=["bad-role", "outsider", "already-member", "no-role"],
)
def test_member_add_refuses_and_changes_nothing(people, manager_api, payload, status, expected):
    before = list(ProjectMembership.objects.order_by("id").values_list())
    before_counts = world_counts()

    response = manager_api.post(url(people.project, "members/"), payload, format="json")

    assert response.status_code == status
    assert response.json() == expected
    assert list(ProjectMembership.objects.order_by("id").values_list()) == before
    assert world_counts() == before_counts


# --- Other organisations' ids ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("patch", lambda p: url(p.other_project), {"name": "Mine now"}),
        ("get", lambda p: url(p.other_project), None),
        ("post", lambda p: url(p.other_project, "archive/"), None),
        ("get", lambda p: url(p.other_project, "members/"), None),
        ("post", lambda p: url(p.other_project, "schema-versions/"), {"definition": label_schema()}),
        ("get", lambda p: f"/api/organisations/{p.other_organisation.id}/", None),
        ("get", lambda p: f"/api/organisations/{p.other_organisation.id}/audit-events/", None),
        ("post", lambda p: f"/api/organisations/{p.other_organisation.id}/members/", {"username": "manager"}),
        (
            "delete",
            lambda p: url(p.project, f"members/{ProjectMembership.objects.get(project=p.other_project).id}/"),
            None,
        ),
        (
            "patch",
            lambda p: url(p.project, f"members/{ProjectMembership.objects.get(project=p.other_project).id}/"),
            {"role": "annotator"},
        ),
        ("get", lambda p: url(p.project, "schema-versions/999/"), None),
        ("get", lambda p: url(p.project, "guideline-versions/999/"), None),
        ("get", lambda p: url(p.project, "schema-versions/2/"), None),  # v2 exists, but in the other project
        ("patch", lambda p: url(p.project, "members/999999/"), {"role": "annotator"}),
        ("get", lambda p: "/api/projects/999999/", None),
    ],
    ids=[
        "patch-other-project",
        "get-other-project",
        "archive-other-project",
        "members-of-other-project",
        "schema-in-other-project",
        "other-organisation",
        "other-audit-log",
        "member-into-other-organisation",
        "delete-foreign-member-id",
        "patch-foreign-member-id",
        "schema-999",
        "guideline-999",
        "schema-of-other-project",
        "missing-member",
        "missing-project",
    ],
)
def test_ids_outside_your_reach_are_not_found_and_nothing_changes(people, client_for, method, path, body):
    for labels in (["a"], ["a", "b"]):
        services.schema_version_create(
            project=people.other_project, actor=people.outsider, definition=label_schema(*labels)
        )
    services.schema_version_create(project=people.project, actor=people.manager, definition=label_schema("x"))
    client = client_for(people.org_admin)
    before = (project_state(), list(ProjectMembership.objects.order_by("id").values_list()), world_counts())

    request = getattr(client, method)
    response = request(path(people)) if body is None else request(path(people), body, format="json")

    assert response.status_code == 404, response.content
    assert response.json() == NOT_FOUND
    assert (
        project_state(),
        list(ProjectMembership.objects.order_by("id").values_list()),
        world_counts(),
    ) == before
