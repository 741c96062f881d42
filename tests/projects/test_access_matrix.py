"""Who may see or do what: the full role-by-action matrix, over the real API, the access functions
and the websocket feed. The expected outcomes are written out here, independently of the tables in
projects/access.py, so a change to those tables has to be mirrored here on purpose."""

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from rest_framework.fields import DateTimeField
from rest_framework.test import APIClient

from core.exceptions import Forbidden, NotFound
from core.models import AuditEvent
from projects import access, services
from projects.access import OrgAction, ProjectAction
from projects.models import (
    GuidelineVersion,
    LabelSchemaVersion,
    Organisation,
    OrganisationMembership,
    Project,
    ProjectMembership,
)
from tests.conftest import ROLES
from tests.factories import UserFactory, label_schema

pytestmark = pytest.mark.django_db

User = get_user_model()

NOT_FOUND = {"code": "not_found", "detail": "Not found."}
FORBIDDEN = {"code": "permission_denied", "detail": "Your role does not allow this."}
CREATE_CALLS = {"create_project", "create_project_from_labelstudio", "preview_labelstudio_config"}


# --- The world every matrix cell starts from ------------------------------------------------------


@pytest.fixture
def world(people):
    """`people`, plus schema and guideline v1 in the project and an account that belongs nowhere yet."""
    services.schema_version_create(
        project=people.project, actor=people.manager, definition=label_schema("positive", "negative")
    )
    services.guideline_version_create(
        project=people.project, actor=people.manager, body="# Label the sentiment"
    )
    UserFactory(username="newcomer")
    return people


def state() -> dict:
    """Everything an API call in the matrix could change."""
    return {
        "organisations": list(Organisation.objects.order_by("id").values_list("id", "name", "slug")),
        "projects": list(
            Project.objects.order_by("id").values_list(
                "id",
                "organisation_id",
                "name",
                "description",
                "overlap",
                "settings",
                "archived_at",
                "updated_at",
            )
        ),
        "org_members": list(
            OrganisationMembership.objects.order_by("id").values_list(
                "id", "organisation_id", "user_id", "role"
            )
        ),
        "project_members": list(
            ProjectMembership.objects.order_by("id").values_list("id", "project_id", "user_id", "role")
        ),
        "schema_versions": list(
            LabelSchemaVersion.objects.order_by("id").values_list("id", "project_id", "version", "definition")
        ),
        "guideline_versions": list(
            GuidelineVersion.objects.order_by("id").values_list("id", "project_id", "version", "body")
        ),
        "audit_events": list(AuditEvent.objects.order_by("id").values_list("id", "action")),
        "users": list(User.objects.order_by("id").values_list("id", "username", "is_active")),
    }


# --- The API matrix -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    method: str
    path: Callable[[object], str]
    body: dict | Callable[[object], dict] | None = None
    prepare: Callable[[object], None] = field(default=lambda people: None)

    def send(self, client: APIClient, people):
        path = self.path(people)
        if self.body is None:
            return getattr(client, self.method)(path)
        body = self.body(people) if callable(self.body) else self.body
        return getattr(client, self.method)(path, body, format="json")


def _project(people) -> str:
    return f"/api/projects/{people.project.id}/"


def _annotator_membership(people) -> str:
    membership = ProjectMembership.objects.get(project=people.project, user=people.annotator)
    return f"{_project(people)}members/{membership.id}/"


def _organisation(people) -> str:
    return f"/api/organisations/{people.organisation.id}/"


def _annotator_org_membership(people) -> str:
    membership = OrganisationMembership.objects.get(organisation=people.organisation, user=people.annotator)
    return f"{_organisation(people)}members/{membership.id}/"


def _archive_first(people) -> None:
    services.project_archive(project=people.project, actor=people.manager)


LS_CONFIG = (
    '<View><Text name="text" value="$text"/>'
    '<Choices name="c" toName="text"><Choice value="a"/></Choices></View>'
)


def _published_release(people) -> None:
    from django.utils import timezone

    from exports.models import Release

    Release.objects.create(
        project=people.project,
        number=1,
        name="v1",
        status=Release.Status.PUBLISHED,
        manifest={},
        storage_prefix=f"releases/{people.project.id}/1/a1/",
        published_at=timezone.now(),
    )


CALLS: dict[str, Call] = {
    "view_project": Call("get", _project),
    "list_members": Call("get", lambda p: f"{_project(p)}members/"),
    "add_member": Call(
        "post", lambda p: f"{_project(p)}members/", {"username": "org_member", "role": "annotator"}
    ),
    "change_role": Call("patch", _annotator_membership, {"role": "reviewer"}),
    "remove_member": Call("delete", _annotator_membership),
    "update_project": Call("patch", _project, {"description": "Now with neutral reviews."}),
    "archive": Call("post", lambda p: f"{_project(p)}archive/"),
    "unarchive": Call("post", lambda p: f"{_project(p)}unarchive/", prepare=_archive_first),
    "list_schema_versions": Call("get", lambda p: f"{_project(p)}schema-versions/"),
    "read_schema_version": Call("get", lambda p: f"{_project(p)}schema-versions/1/"),
    "create_schema_version": Call(
        "post", lambda p: f"{_project(p)}schema-versions/", {"definition": label_schema("positive")}
    ),
    "list_guideline_versions": Call("get", lambda p: f"{_project(p)}guideline-versions/"),
    "read_guideline_version": Call("get", lambda p: f"{_project(p)}guideline-versions/1/"),
    "create_guideline_version": Call(
        "post",
        lambda p: f"{_project(p)}guideline-versions/",
        {"body": "# Label the sentiment, then the topic"},
    ),
    "view_organisation": Call("get", _organisation),
    "list_organisation_members": Call("get", lambda p: f"{_organisation(p)}members/"),
    "add_organisation_member": Call(
        "post", lambda p: f"{_organisation(p)}members/", {"username": "newcomer"}
    ),
    "read_audit_log": Call("get", lambda p: f"{_organisation(p)}audit-events/"),
    "revoke_member_credentials": Call("post", lambda p: f"{_annotator_org_membership(p)}revoke-credentials/"),
    "create_project": Call(
        "post",
        lambda p: "/api/projects/",
        lambda p: {"organisation": p.organisation.id, "name": "Support tickets"},
    ),
    "create_project_from_labelstudio": Call(
        "post",
        lambda p: "/api/projects/from-labelstudio/",
        lambda p: {"organisation": p.organisation.id, "name": "Migrated", "labelstudio_config": LS_CONFIG},
    ),
    "preview_labelstudio_config": Call(
        "post",
        lambda p: "/api/projects/from-labelstudio/preview/",
        lambda p: {"organisation": p.organisation.id, "labelstudio_config": LS_CONFIG},
    ),
    "queue_progress": Call("get", lambda p: f"{_project(p)}queue/progress/"),
    "list_annotations": Call("get", lambda p: f"{_project(p)}annotations/"),
    "review_next": Call("post", lambda p: f"{_project(p)}review/next/"),
    "list_predictions": Call("get", lambda p: f"{_project(p)}predictions/"),
    "acknowledge_guidelines": Call("post", lambda p: f"{_project(p)}guideline-versions/1/acknowledge/"),
    "pause_member": Call(
        "post", lambda p: f"{_annotator_membership(p)}pause/", {"reason": "Gold accuracy 40%"}
    ),
    "quality_status": Call("get", lambda p: f"{_project(p)}quality/status/"),
    "quality_history": Call("get", lambda p: f"{_project(p)}quality/history/"),
    "quality_table": Call("get", lambda p: f"{_project(p)}quality/tables/annotators.csv"),
    "quality_recompute": Call("post", lambda p: f"{_project(p)}quality/recompute/"),
    "list_gold": Call("get", lambda p: f"{_project(p)}gold/"),
    "reproduce_release": Call(
        "post", lambda p: f"{_project(p)}releases/1/reproduce/", prepare=_published_release
    ),
}

WRITES = {
    "add_member",
    "change_role",
    "remove_member",
    "update_project",
    "archive",
    "unarchive",
    "create_schema_version",
    "create_guideline_version",
    "add_organisation_member",
    "revoke_member_credentials",
    "create_project",
    "create_project_from_labelstudio",
    "acknowledge_guidelines",
    "pause_member",
    "quality_recompute",
    "reproduce_release",
}

# fmt: off
#                               org_admin manager reviewer annotator org_member outsider
MATRIX: dict[str, tuple[int, ...]] = {
    "view_project":              (200,     200,    200,     200,      404,       404),
    "list_members":              (200,     200,    200,     200,      404,       404),
    "add_member":                (201,     201,    403,     403,      404,       404),
    "change_role":               (200,     200,    403,     403,      404,       404),
    "remove_member":             (204,     204,    403,     403,      404,       404),
    "update_project":            (200,     200,    403,     403,      404,       404),
    "archive":                   (200,     200,    403,     403,      404,       404),
    "unarchive":                 (200,     200,    403,     403,      404,       404),
    "list_schema_versions":      (200,     200,    200,     200,      404,       404),
    "read_schema_version":       (200,     200,    200,     200,      404,       404),
    "create_schema_version":     (201,     201,    403,     403,      404,       404),
    "list_guideline_versions":   (200,     200,    200,     200,      404,       404),
    "read_guideline_version":    (200,     200,    200,     200,      404,       404),
    "create_guideline_version":  (201,     201,    403,     403,      404,       404),
    "view_organisation":         (200,     200,    200,     200,      200,       404),
    "list_organisation_members": (200,     200,    200,     200,      200,       404),
    "add_organisation_member":   (201,     403,    403,     403,      403,       404),
    "read_audit_log":            (200,     403,    403,     403,      403,       404),
    "revoke_member_credentials": (200,     403,    403,     403,      403,       404),
    # A project manager may create projects by default (Organisation.project_creators "managers").
    "create_project":            (201,     201,    403,     403,      403,       404),
    "create_project_from_labelstudio": (201, 201,  403,     403,      403,       404),
    "preview_labelstudio_config": (200,    200,    403,     403,      403,       404),
    "queue_progress":            (200,     200,    200,     200,      404,       404),
    "list_annotations":          (200,     200,    200,     200,      404,       404),
    "review_next":               (200,     200,    200,     403,      404,       404),
    "list_predictions":          (200,     200,    200,     403,      404,       404),
    "acknowledge_guidelines":    (200,     200,    200,     200,      404,       404),
    "pause_member":              (200,     200,    403,     403,      404,       404),
    "quality_status":            (200,     200,    200,     403,      404,       404),
    "quality_history":           (200,     200,    200,     403,      404,       404),
    "quality_table":             (200,     200,    200,     403,      404,       404),
    "quality_recompute":         (202,     202,    403,     403,      404,       404),
    "list_gold":                 (200,     200,    403,     403,      404,       404),
    "reproduce_release":         (202,     202,    403,     403,      404,       404),
}
# fmt: on

# Writes that append more than one audit row (project, schema version, what was not translated).
AUDIT_EVENTS = {"create_project_from_labelstudio": 3}

CELLS = [(role, name, MATRIX[name][ROLES.index(role)]) for name in MATRIX for role in ROLES]


def test_matrix_covers_every_call_and_role():
    assert set(MATRIX) == set(CALLS)
    assert WRITES - set(CALLS) == set()
    assert all(len(row) == len(ROLES) for row in MATRIX.values())


@pytest.mark.parametrize(("role", "call_name", "expected"), CELLS, ids=[f"{r}-{c}" for r, c, _ in CELLS])
def test_api_answers_role_and_action_as_the_matrix_says(world, client_for, role, call_name, expected):
    call = CALLS[call_name]
    call.prepare(world)
    client = client_for(world.by_role(role))
    before = state()

    response = call.send(client, world)

    assert response.status_code == expected, response.content
    after = state()
    if expected == 404:
        assert response.json() == NOT_FOUND
        assert after == before
    elif expected == 403:
        if call_name in CREATE_CALLS:  # says why: who may create in this organisation
            assert response.json()["code"] == "permission_denied"
            assert "create projects" in response.json()["detail"]
        else:
            assert response.json() == FORBIDDEN
        assert after == before
    elif call_name in WRITES:
        assert after != before  # the write really happened
        assert AuditEvent.objects.count() == len(before["audit_events"]) + AUDIT_EVENTS.get(call_name, 1)
    else:
        assert after == before  # reads never write


@pytest.mark.parametrize("call_name", list(CALLS))
def test_anonymous_requests_are_refused_with_401(world, call_name):
    call = CALLS[call_name]
    call.prepare(world)
    before = state()

    response = call.send(APIClient(), world)

    assert response.status_code == 401
    assert response.json() == {
        "code": "not_authenticated",
        "detail": "Authentication credentials were not provided.",
    }
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    assert state() == before


@pytest.mark.parametrize(
    "call_name", ["view_project", "view_organisation", "update_project", "create_project"]
)
def test_token_of_a_deactivated_user_is_refused(world, client_for, call_name):
    client = client_for(world.org_admin)
    User.objects.filter(pk=world.org_admin.pk).update(is_active=False)
    before = state()

    response = CALLS[call_name].send(client, world)

    assert response.status_code == 401
    assert response.json() == {"code": "authentication_failed", "detail": "Invalid or revoked API token."}
    assert state() == before


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("org_admin", ["Reviews"]),
        ("manager", ["Reviews"]),
        ("annotator", ["Reviews"]),
        ("org_member", []),
        ("outsider", ["Globex secrets"]),
    ],
)
def test_project_list_shows_only_visible_projects(world, client_for, role, expected):
    client = client_for(world.by_role(role))

    response = client.get("/api/projects/")

    assert response.status_code == 200
    assert [project["name"] for project in response.json()["results"]] == expected


def test_organisation_list_shows_only_own_organisations(world, client_for):
    client = client_for(world.org_member)

    response = client.get("/api/organisations/")

    assert response.status_code == 200
    assert response.json() == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [
            {
                "id": world.organisation.id,
                "name": "Acme Research",
                "slug": "acme",
                "role": "member",
                "created_at": DateTimeField().to_representation(world.organisation.created_at),
            }
        ],
    }


# --- The access functions -------------------------------------------------------------------------

PROJECT_READS = {
    ProjectAction.VIEW,
    ProjectAction.VIEW_MEMBERS,
    ProjectAction.VIEW_SCHEMA,
    ProjectAction.VIEW_GUIDELINES,
    ProjectAction.JOIN_FEED,
}
PROJECT_WRITES = {
    ProjectAction.UPDATE,
    ProjectAction.ARCHIVE,
    ProjectAction.MANAGE_MEMBERS,
    ProjectAction.EDIT_SCHEMA,
    ProjectAction.EDIT_GUIDELINES,
    ProjectAction.IMPORT_DATA,
    ProjectAction.MANAGE_WORKFLOW,
    ProjectAction.MANAGE_CONSENT,
    ProjectAction.VIEW_MEMBER_EMAILS,  # a read, but for managers only, like the writes
    ProjectAction.MANAGE_PERSONAL_DATA,  # raw personal data and its findings: managers only
}
# Reads (and review) that annotators may not make: the whole item list, everyone's annotations (blind
# labeling), the review queue.
PROJECT_REVIEWER_READS = {
    ProjectAction.VIEW_ITEMS,
    ProjectAction.REVIEW,
    ProjectAction.VIEW_ANNOTATIONS,
    ProjectAction.VIEW_QUALITY,
}
# Labeling: annotators and managers, not reviewers (who review what others labeled).
PROJECT_LABELING = {ProjectAction.ANNOTATE}
# Organisation admins only: erasure (irreversible, withdraws releases; docs/GOVERNANCE.md).
PROJECT_ADMIN_ONLY = {ProjectAction.ERASE}
# role: (outcome of a read, of a write, of a reviewer-level read, of labeling, of an admin-only action)
PROJECT_OUTCOMES = {
    "org_admin": ("ok", "ok", "ok", "ok", "ok"),
    "manager": ("ok", "ok", "ok", "ok", "forbidden"),
    "reviewer": ("ok", "forbidden", "ok", "forbidden", "forbidden"),
    "annotator": ("ok", "forbidden", "forbidden", "ok", "forbidden"),
    "org_member": ("not_found", "not_found", "not_found", "not_found", "not_found"),
    "outsider": ("not_found", "not_found", "not_found", "not_found", "not_found"),
}
ORG_READS = {OrgAction.VIEW, OrgAction.VIEW_MEMBERS}
ORG_WRITES = {
    OrgAction.MANAGE_MEMBERS,
    OrgAction.CREATE_PROJECT,
    OrgAction.VIEW_AUDIT_LOG,
    OrgAction.VIEW_MEMBER_EMAILS,  # admins here; project managers too through can_see_member_emails
    OrgAction.DELETE_ACCOUNTS,  # deleting a member's account (docs/GOVERNANCE.md)
    OrgAction.VIEW_RECORD_OF_PROCESSING,  # the organisation's record of processing (admins)
}
ORG_OUTCOMES = {
    "org_admin": ("ok", "ok"),
    "manager": ("ok", "forbidden"),
    "reviewer": ("ok", "forbidden"),
    "annotator": ("ok", "forbidden"),
    "org_member": ("ok", "forbidden"),
    "outsider": ("not_found", "not_found"),
}


def _column(action: ProjectAction) -> int:
    if action in PROJECT_ADMIN_ONLY:
        return 4
    if action in PROJECT_LABELING:
        return 3
    return 0 if action in PROJECT_READS else 2 if action in PROJECT_REVIEWER_READS else 1


def _outcome(fn) -> object:
    try:
        return fn()
    except NotFound:
        return "not_found"
    except Forbidden:
        return "forbidden"


def test_action_tables_cover_every_action():
    assert set(ProjectAction) == (
        PROJECT_READS | PROJECT_WRITES | PROJECT_REVIEWER_READS | PROJECT_LABELING | PROJECT_ADMIN_ONLY
    )
    assert not PROJECT_READS & PROJECT_WRITES
    assert not (PROJECT_READS | PROJECT_WRITES) & PROJECT_REVIEWER_READS
    assert not (PROJECT_READS | PROJECT_WRITES | PROJECT_REVIEWER_READS) & PROJECT_LABELING
    assert set(OrgAction) == ORG_READS | ORG_WRITES
    assert not ORG_READS & ORG_WRITES


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(ProjectAction))
def test_project_get_for_user_follows_the_matrix(people, role, action):
    user = people.by_role(role)
    expected = PROJECT_OUTCOMES[role][_column(action)]

    outcome = _outcome(
        lambda: access.project_get_for_user(user=user, project_id=people.project.id, action=action)
    )

    assert outcome == (people.project if expected == "ok" else expected)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(OrgAction))
def test_organisation_get_for_user_follows_the_matrix(people, role, action):
    user = people.by_role(role)
    expected = ORG_OUTCOMES[role][0 if action in ORG_READS else 1]
    if action == OrgAction.CREATE_PROJECT and role == "manager":
        expected = "ok"  # manages a project, and project_creators defaults to "managers"

    outcome = _outcome(
        lambda: access.organisation_get_for_user(
            user=user, organisation_id=people.organisation.id, action=action
        )
    )

    assert outcome == (people.organisation if expected == "ok" else expected)


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("org_admin", True),
        ("manager", True),
        ("reviewer", True),
        ("annotator", True),
        ("org_member", False),
        ("outsider", False),
    ],
)
def test_can_view_project_follows_the_matrix(people, role, expected):
    assert access.can_view_project(user=people.by_role(role), project_id=people.project.id) is expected


def test_outsider_sees_their_own_project(people):
    assert access.can_view_project(user=people.outsider, project_id=people.other_project.id) is True
    assert access.can_view_project(user=people.manager, project_id=people.other_project.id) is False


@pytest.mark.parametrize("user_kind", ["anonymous", "none"])
def test_no_user_gets_nothing(people, user_kind):
    user = AnonymousUser() if user_kind == "anonymous" else None

    assert access.can_view_project(user=user, project_id=people.project.id) is False
    assert (
        _outcome(lambda: access.project_get_for_user(user=user, project_id=people.project.id)) == "not_found"
    )
    assert (
        _outcome(lambda: access.organisation_get_for_user(user=user, organisation_id=people.organisation.id))
        == "not_found"
    )


@pytest.mark.parametrize("role", ["org_admin", "manager", "annotator"])
def test_inactive_user_gets_nothing(people, role):
    user = people.by_role(role)
    user.is_active = False
    user.save(update_fields=["is_active"])

    assert access.can_view_project(user=user, project_id=people.project.id) is False
    assert (
        _outcome(lambda: access.project_get_for_user(user=user, project_id=people.project.id)) == "not_found"
    )
    assert (
        _outcome(lambda: access.organisation_get_for_user(user=user, organisation_id=people.organisation.id))
        == "not_found"
    )
    assert list(Project.objects.filter(access.projects_visible_filter(user=user))) == []
    assert list(Organisation.objects.filter(access.organisations_visible_filter(user=user))) == []


def test_unknown_ids_are_not_found(people):
    missing = Project.objects.order_by("-id").first().id + 1000

    assert (
        _outcome(lambda: access.project_get_for_user(user=people.org_admin, project_id=missing))
        == "not_found"
    )
    assert access.can_view_project(user=people.org_admin, project_id=missing) is False
    assert (
        _outcome(lambda: access.organisation_get_for_user(user=people.org_admin, organisation_id=missing))
        == "not_found"
    )
