"""projects.services, members and versions: project and organisation members, schema and guideline
versions; each write, its audit row, its rules, and that a refused write changes nothing
(project create/update/archive and stats: test_project_services.py)."""

import json

import pytest
from django.test import override_settings

from core.exceptions import DomainError
from core.models import OutboxMessage
from projects import services
from projects.models import (
    GuidelineVersion,
    LabelSchemaVersion,
    OrganisationMembership,
    ProjectMembership,
)
from tests.factories import (
    OrganisationMembershipFactory,
    ProjectFactory,
    ProjectMembershipFactory,
    UserFactory,
    label_schema,
)
from tests.projects.services_kit import STATS_TASK, User, audit_rows, counts

pytestmark = pytest.mark.django_db


def membership_of(people, role: str) -> ProjectMembership:
    return ProjectMembership.objects.get(project=people.project, user=people.by_role(role))


# --- project members ------------------------------------------------------------------------------


def test_member_add_gives_an_organisation_member_a_role(people):
    membership = services.project_member_add(
        project=people.project, actor=people.manager, username="ORG_MEMBER", role="reviewer"
    )

    assert (membership.user, membership.role) == (people.org_member, "reviewer")
    assert audit_rows(action="project_member.added") == [
        (
            "project_member.added",
            "manager",
            people.organisation.id,
            people.project.id,
            "projects.projectmembership",
            str(membership.id),
            {"username": "org_member", "role": "reviewer"},
        )
    ]
    assert (
        OutboxMessage.objects.filter(task_name=STATS_TASK, kwargs={"project_id": people.project.id}).count()
        == 1
    )


@pytest.mark.parametrize(
    ("username", "code", "status"),
    [
        ("outsider", "unknown_user", 400),
        ("nobody", "unknown_user", 400),
        ("inactive_member", "unknown_user", 400),
        ("annotator", "already_member", 409),
    ],
)
def test_member_add_refuses_and_changes_nothing(people, username, code, status):
    inactive = UserFactory(username="inactive_member", is_active=False)
    OrganisationMembershipFactory(organisation=people.organisation, user=inactive)
    before = counts()
    roles = list(ProjectMembership.objects.order_by("id").values_list("user_id", "role"))

    with pytest.raises(DomainError) as error:
        services.project_member_add(
            project=people.project, actor=people.manager, username=username, role="reviewer"
        )

    assert (error.value.code, error.value.status_code) == (code, status)
    assert counts() == before
    assert list(ProjectMembership.objects.order_by("id").values_list("user_id", "role")) == roles


def test_member_add_to_an_archived_project_is_refused(people):
    services.project_archive(project=people.project, actor=people.manager)
    before = counts()

    with pytest.raises(DomainError) as error:
        services.project_member_add(
            project=people.project, actor=people.manager, username="org_member", role="annotator"
        )

    assert error.value.code == "project_archived"
    assert counts() == before


def test_change_role_is_audited_with_old_and_new(people):
    membership = membership_of(people, "annotator")

    services.project_member_change_role(
        project=people.project, actor=people.manager, membership_id=membership.id, role="reviewer"
    )

    membership.refresh_from_db()
    assert membership.role == "reviewer"
    assert audit_rows(action="project_member.role_changed") == [
        (
            "project_member.role_changed",
            "manager",
            people.organisation.id,
            people.project.id,
            "projects.projectmembership",
            str(membership.id),
            {"username": "annotator", "role": ["annotator", "reviewer"]},
        )
    ]


def test_change_to_the_same_role_writes_nothing(people):
    membership = membership_of(people, "annotator")
    before = counts()

    services.project_member_change_role(
        project=people.project, actor=people.manager, membership_id=membership.id, role="annotator"
    )

    assert counts() == before


def test_change_role_of_another_projects_member_is_not_found(people):
    foreign = ProjectMembership.objects.get(project=people.other_project)
    before = counts()

    with pytest.raises(DomainError) as error:
        services.project_member_change_role(
            project=people.project, actor=people.manager, membership_id=foreign.id, role="annotator"
        )

    assert (error.value.code, error.value.status_code) == ("not_found", 404)
    foreign.refresh_from_db()
    assert foreign.role == "manager"
    assert counts() == before


def test_remove_deletes_the_membership_and_is_audited(people):
    membership = membership_of(people, "annotator")

    services.project_member_remove(project=people.project, actor=people.manager, membership_id=membership.id)

    assert ProjectMembership.objects.filter(pk=membership.id).exists() is False
    assert audit_rows(action="project_member.removed") == [
        (
            "project_member.removed",
            "manager",
            people.organisation.id,
            people.project.id,
            "projects.projectmembership",
            str(membership.id),
            {"username": "annotator", "role": "annotator"},
        )
    ]
    assert OrganisationMembership.objects.filter(user=people.annotator).exists() is True  # still in the org


def test_remove_of_another_projects_member_is_not_found(people):
    foreign = ProjectMembership.objects.get(project=people.other_project)
    before = counts()

    with pytest.raises(DomainError) as error:
        services.project_member_remove(project=people.project, actor=people.manager, membership_id=foreign.id)

    assert (error.value.code, error.value.status_code) == ("not_found", 404)
    assert ProjectMembership.objects.filter(pk=foreign.id).exists() is True
    assert counts() == before


# --- schema and guideline versions ----------------------------------------------------------------


def test_schema_versions_count_up_and_earlier_ones_stay(people):
    definitions = [label_schema("pos"), label_schema("pos", "neg"), label_schema("pos", "neg", "neutral")]

    created = [
        services.schema_version_create(
            project=people.project, actor=people.manager, definition=d, note=f"n{i}"
        )
        for i, d in enumerate(definitions, start=1)
    ]

    assert [v.version for v in created] == [1, 2, 3]
    assert list(
        LabelSchemaVersion.objects.filter(project=people.project)
        .order_by("version")
        .values_list("version", "definition", "note", "created_by__username")
    ) == [
        (1, label_schema("pos"), "n1", "manager"),
        (2, label_schema("pos", "neg"), "n2", "manager"),
        (3, label_schema("pos", "neg", "neutral"), "n3", "manager"),
    ]
    assert [row[-1] for row in audit_rows(action="schema.version_created")] == [
        {"version": 1, "note": "n1"},
        {"version": 2, "note": "n2"},
        {"version": 3, "note": "n3"},
    ]


def test_schema_versions_are_numbered_per_project(people):
    services.schema_version_create(project=people.project, actor=people.manager, definition=label_schema("a"))

    other = services.schema_version_create(
        project=people.other_project, actor=people.outsider, definition=label_schema("b")
    )

    assert other.version == 1


@pytest.mark.parametrize(
    ("definition", "code"),
    [
        (["pos", "neg"], "invalid_schema"),
        ("pos,neg", "invalid_schema"),
        (None, "invalid_schema"),
        (label_schema("a\x00b"), "invalid_schema"),
        (label_schema(*(f"label number {i}" for i in range(20))), "schema_too_large"),
        ({"labels": ["pos"]}, "invalid_schema"),  # not the published format
        (label_schema("pos", "pos"), "invalid_schema"),
        (label_schema("<script>alert(1)</script>"), "invalid_schema"),
    ],
    ids=["list", "string", "null", "nul-char", "too-large", "free-form", "duplicate-label", "script-label"],
)
@override_settings(PROJECTS_SCHEMA_MAX_BYTES=400)
def test_schema_version_refuses_bad_definitions_and_creates_nothing(people, definition, code):
    services.schema_version_create(
        project=people.project, actor=people.manager, definition=label_schema("pos")
    )
    before = counts()

    with pytest.raises(DomainError) as error:
        services.schema_version_create(project=people.project, actor=people.manager, definition=definition)

    assert (error.value.code, error.value.status_code) == (code, 400)
    assert counts() == before
    assert list(
        LabelSchemaVersion.objects.filter(project=people.project).values_list("version", "definition")
    ) == [(1, label_schema("pos"))]


def test_schema_exactly_at_the_size_limit_is_accepted(people):
    definition = label_schema("x")
    size = len(json.dumps(definition, ensure_ascii=False).encode())

    with override_settings(PROJECTS_SCHEMA_MAX_BYTES=size):
        version = services.schema_version_create(
            project=people.project, actor=people.manager, definition=definition
        )

    assert version.version == 1


def test_schema_version_on_an_archived_project_is_refused(people):
    services.project_archive(project=people.project, actor=people.manager)
    before = counts()

    with pytest.raises(DomainError) as error:
        services.schema_version_create(
            project=people.project, actor=people.manager, definition=label_schema()
        )

    assert (error.value.code, error.value.status_code) == ("project_archived", 409)
    assert counts() == before


def test_guideline_versions_count_up_and_earlier_ones_stay(people):
    bodies = ["# v1", "# v2\n\nMore detail.", "# v3\n\nEven more."]

    created = [
        services.guideline_version_create(project=people.project, actor=people.manager, body=b)
        for b in bodies
    ]

    assert [v.version for v in created] == [1, 2, 3]
    assert list(
        GuidelineVersion.objects.filter(project=people.project)
        .order_by("version")
        .values_list("version", "body")
    ) == [(1, "# v1"), (2, "# v2\n\nMore detail."), (3, "# v3\n\nEven more.")]
    assert [row[-1] for row in audit_rows(action="guideline.version_created")] == [
        {"version": 1, "note": ""},
        {"version": 2, "note": ""},
        {"version": 3, "note": ""},
    ]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("", "empty_guidelines"),
        ("  \n\t ", "empty_guidelines"),
        ("x" * 11, "guidelines_too_long"),
        ("a\x00b", "invalid_guidelines"),
    ],
    ids=["empty", "whitespace", "too-long", "nul-char"],
)
@override_settings(PROJECTS_GUIDELINE_MAX_CHARS=10)
def test_guideline_version_refuses_bad_bodies_and_creates_nothing(people, body, code):
    before = counts()

    with pytest.raises(DomainError) as error:
        services.guideline_version_create(project=people.project, actor=people.manager, body=body)

    assert (error.value.code, error.value.status_code) == (code, 400)
    assert counts() == before


@override_settings(PROJECTS_GUIDELINE_MAX_CHARS=10)
def test_guideline_exactly_at_the_length_limit_is_accepted(people):
    version = services.guideline_version_create(project=people.project, actor=people.manager, body="x" * 10)

    assert version.body == "x" * 10


# --- organisation members -------------------------------------------------------------------------


def test_org_member_add_of_an_existing_account(people):
    UserFactory(username="newcomer")

    membership = services.organisation_member_add(
        organisation=people.organisation, actor=people.org_admin, username="NewComer", role="member"
    )

    assert (membership.user.username, membership.role) == ("newcomer", "member")
    assert audit_rows(action="organisation_member.added") == [
        (
            "organisation_member.added",
            "org_admin",
            people.organisation.id,
            None,
            "projects.organisationmembership",
            str(membership.id),
            {"username": "newcomer", "role": "member", "account_created": False},
        )
    ]


def test_org_member_add_with_a_password_creates_the_account(people):
    membership = services.organisation_member_add(
        organisation=people.organisation,
        actor=people.org_admin,
        username="newcomer",
        role="admin",
        password="a-long-and-unusual-passphrase",
        email="newcomer@example.org",
    )

    user = User.objects.get(username="newcomer")
    assert (membership.user, membership.role) == (user, "admin")
    assert user.email == "newcomer@example.org"
    assert user.check_password("a-long-and-unusual-passphrase") is True
    assert audit_rows(action="organisation_member.added")[0][-1] == {
        "username": "newcomer",
        "role": "admin",
        "account_created": True,
    }


@pytest.mark.parametrize(
    ("username", "password", "code", "status"),
    [
        ("newcomer", "short", "weak_password", 400),
        ("newcomer", "password123", "weak_password", 400),
        ("newcomer", "1234567890123", "weak_password", 400),
        ("ANNOTATOR", "a-long-and-unusual-passphrase", "username_taken", 409),
        ("nobody", None, "unknown_user", 400),
        ("annotator", None, "already_member", 409),
    ],
    ids=["short", "common", "numeric", "taken", "unknown", "already-member"],
)
def test_org_member_add_refuses_and_creates_nothing(people, username, password, code, status):
    before = counts()

    with pytest.raises(DomainError) as error:
        services.organisation_member_add(
            organisation=people.organisation,
            actor=people.org_admin,
            username=username,
            role="member",
            password=password,
        )

    assert (error.value.code, error.value.status_code) == (code, status)
    assert counts() == before
    assert User.objects.filter(username="newcomer").exists() is False


def test_org_member_add_accepts_an_account_from_another_organisation(people):
    membership = services.organisation_member_add(
        organisation=people.organisation, actor=people.org_admin, username="outsider", role="member"
    )

    assert list(
        OrganisationMembership.objects.filter(user=people.outsider)
        .order_by("id")
        .values_list("organisation_id", "role")
    ) == [(people.other_organisation.id, "admin"), (people.organisation.id, "member")]
    assert membership.organisation == people.organisation


def test_weak_password_error_lists_the_validator_messages(people):
    with pytest.raises(DomainError) as error:
        services.organisation_member_add(
            organisation=people.organisation,
            actor=people.org_admin,
            username="newcomer",
            role="member",
            password="short",
        )

    assert error.value.message == "This password is too short. It must contain at least 10 characters."


def test_org_member_remove_also_removes_their_project_roles(people):
    second = ProjectFactory(organisation=people.organisation, name="Second")
    ProjectMembershipFactory(project=second, user=people.annotator, role="reviewer")
    membership = OrganisationMembership.objects.get(organisation=people.organisation, user=people.annotator)

    services.organisation_member_remove(
        organisation=people.organisation, actor=people.org_admin, membership_id=membership.id
    )

    assert OrganisationMembership.objects.filter(user=people.annotator).exists() is False
    assert ProjectMembership.objects.filter(user=people.annotator).exists() is False
    assert audit_rows(action="organisation_member.removed") == [
        (
            "organisation_member.removed",
            "org_admin",
            people.organisation.id,
            None,
            "projects.organisationmembership",
            str(membership.id),
            {"username": "annotator", "projects": sorted([people.project.id, second.id])},
        )
    ]
    assert sorted(OutboxMessage.objects.values_list("kwargs__project_id", flat=True)) == sorted(
        [people.project.id, second.id]
    )


def test_org_member_remove_leaves_other_organisations_alone(people):
    OrganisationMembershipFactory(organisation=people.other_organisation, user=people.annotator)
    ProjectMembershipFactory(project=people.other_project, user=people.annotator)
    membership = OrganisationMembership.objects.get(organisation=people.organisation, user=people.annotator)

    services.organisation_member_remove(
        organisation=people.organisation, actor=people.org_admin, membership_id=membership.id
    )

    assert list(
        OrganisationMembership.objects.filter(user=people.annotator).values_list("organisation_id", flat=True)
    ) == [people.other_organisation.id]
    assert list(
        ProjectMembership.objects.filter(user=people.annotator).values_list("project_id", flat=True)
    ) == [people.other_project.id]


def test_last_admin_cannot_be_removed(people):
    membership = OrganisationMembership.objects.get(organisation=people.organisation, user=people.org_admin)
    before = counts()

    with pytest.raises(DomainError) as error:
        services.organisation_member_remove(
            organisation=people.organisation, actor=people.org_admin, membership_id=membership.id
        )

    assert (error.value.code, error.value.status_code) == ("last_admin", 409)
    assert counts() == before


def test_an_admin_can_be_removed_while_another_remains(people):
    OrganisationMembership.objects.filter(user=people.manager).update(role="admin")
    membership = OrganisationMembership.objects.get(organisation=people.organisation, user=people.org_admin)

    services.organisation_member_remove(
        organisation=people.organisation, actor=people.manager, membership_id=membership.id
    )

    assert list(
        OrganisationMembership.objects.filter(organisation=people.organisation, role="admin").values_list(
            "user__username", flat=True
        )
    ) == ["manager"]


def test_org_member_remove_of_another_organisations_membership_is_not_found(people):
    foreign = OrganisationMembership.objects.get(organisation=people.other_organisation, user=people.outsider)
    before = counts()

    with pytest.raises(DomainError) as error:
        services.organisation_member_remove(
            organisation=people.organisation, actor=people.org_admin, membership_id=foreign.id
        )

    assert (error.value.code, error.value.status_code) == ("not_found", 404)
    assert counts() == before
