"""projects.services: every write, its audit row, its rules, and that a refused write changes nothing."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings

from core.exceptions import DomainError
from core.models import AuditEvent, OutboxMessage
from projects import services
from projects.models import (
    GuidelineVersion,
    LabelSchemaVersion,
    OrganisationMembership,
    Project,
    ProjectMembership,
    ProjectStats,
)
from tests.factories import (
    OrganisationMembershipFactory,
    ProjectFactory,
    ProjectMembershipFactory,
    UserFactory,
    label_schema,
)

pytestmark = pytest.mark.django_db

User = get_user_model()
STATS_TASK = "projects.tasks.project_stats_refresh_task"


def counts() -> dict[str, int]:
    """Row counts of everything a service here may write."""
    return {
        "users": User.objects.count(),
        "projects": Project.objects.count(),
        "org_members": OrganisationMembership.objects.count(),
        "project_members": ProjectMembership.objects.count(),
        "schema_versions": LabelSchemaVersion.objects.count(),
        "guideline_versions": GuidelineVersion.objects.count(),
        "audit_events": AuditEvent.objects.count(),
        "outbox": OutboxMessage.objects.count(),
    }


def project_row(project: Project) -> dict:
    return Project.objects.filter(pk=project.pk).values().get()


def audit_rows(**filters) -> list[tuple]:
    return list(
        AuditEvent.objects.filter(**filters)
        .order_by("id")
        .values_list(
            "action", "actor_label", "organisation_id", "project_id", "target_type", "target_id", "changes"
        )
    )


def membership_of(people, role: str) -> ProjectMembership:
    return ProjectMembership.objects.get(project=people.project, user=people.by_role(role))


# --- project_create -------------------------------------------------------------------------------


def test_create_makes_the_creator_its_first_manager(people):
    project = services.project_create(
        organisation=people.organisation,
        actor=people.org_admin,
        name="  Support tickets ",
        description="Triage.",
        overlap=3,
    )

    assert project_row(project) | {"created_at": None, "updated_at": None} == {
        "id": project.id,
        "organisation_id": people.organisation.id,
        "name": "Support tickets",
        "description": "Triage.",
        "overlap": 3,
        "settings": {},
        "archived_at": None,
        "created_by_id": people.org_admin.id,
        "created_at": None,
        "updated_at": None,
    }
    assert list(ProjectMembership.objects.filter(project=project).values_list("user__username", "role")) == [
        ("org_admin", "manager")
    ]


def test_create_writes_the_audit_row_with_exact_changes(people):
    project = services.project_create(
        organisation=people.organisation,
        actor=people.org_admin,
        name="Support tickets",
        description="Triage.",
        overlap=3,
        settings_={"labeling": {"lease_seconds": 300}},  # a known setting: unknown ones are refused
    )

    assert audit_rows(project_id=project.id) == [
        (
            "project.created",
            "org_admin",
            people.organisation.id,
            project.id,
            "projects.project",
            str(project.id),
            {"name": "Support tickets", "description": "Triage.", "overlap": 3},
        )
    ]
    assert AuditEvent.objects.get(project_id=project.id).actor == people.org_admin


def test_create_schedules_a_stats_refresh_through_the_outbox(people):
    project = services.project_create(
        organisation=people.organisation, actor=people.org_admin, name="Support"
    )

    message = OutboxMessage.objects.get()
    assert (message.task_name, message.kwargs, message.dispatched_at) == (
        STATS_TASK,
        {"project_id": project.id},
        None,
    )


@override_settings(PROJECTS_DEFAULT_OVERLAP=3)
def test_create_takes_the_default_overlap_from_settings(people):
    project = services.project_create(
        organisation=people.organisation, actor=people.org_admin, name="Support"
    )

    assert project.overlap == 3


def test_same_name_in_another_organisation_is_fine(people):
    project = services.project_create(
        organisation=people.organisation, actor=people.org_admin, name="Globex secrets"
    )

    assert project.name == "Globex secrets"


@pytest.mark.parametrize(
    ("kwargs", "code", "status"),
    [
        ({"name": "Reviews"}, "name_taken", 409),
        ({"name": " Reviews "}, "name_taken", 409),
        ({"name": "   "}, "invalid_name", 400),
        ({"name": "Support", "overlap": 0}, "invalid_overlap", 400),
        ({"name": "Support", "overlap": 51}, "invalid_overlap", 400),
        ({"name": "Support", "settings_": ["not", "an", "object"]}, "invalid_settings", 400),
    ],
    ids=["name-taken", "name-taken-after-strip", "blank-name", "overlap-0", "overlap-51", "settings-list"],
)
def test_create_refuses_and_creates_nothing(people, kwargs, code, status):
    before = counts()

    with pytest.raises(DomainError) as error:
        services.project_create(organisation=people.organisation, actor=people.org_admin, **kwargs)

    assert (error.value.code, error.value.status_code) == (code, status)
    assert counts() == before


def test_create_overlap_bounds_are_inclusive(people):
    low = services.project_create(
        organisation=people.organisation, actor=people.org_admin, name="Low", overlap=1
    )
    high = services.project_create(
        organisation=people.organisation, actor=people.org_admin, name="High", overlap=50
    )

    assert (low.overlap, high.overlap) == (1, 50)


# --- project_update -------------------------------------------------------------------------------


def test_update_audits_exactly_the_fields_that_change(people):
    services.project_update(
        project=people.project,
        actor=people.manager,
        name="Product reviews",
        description=people.project.description,
        overlap=2,
    )

    people.project.refresh_from_db()
    assert (people.project.name, people.project.overlap) == ("Product reviews", 2)
    assert audit_rows(action="project.updated") == [
        (
            "project.updated",
            "manager",
            people.organisation.id,
            people.project.id,
            "projects.project",
            str(people.project.id),
            {"name": ["Reviews", "Product reviews"], "overlap": [1, 2]},
        )
    ]


def test_update_stores_settings(people):
    # A known setting: unknown keys are refused (tests/projects/test_project_settings.py).
    settings_ = {"quality": {"min_gold_accuracy": 0.8}}
    services.project_update(project=people.project, actor=people.manager, settings=settings_)

    people.project.refresh_from_db()
    assert people.project.settings == settings_
    assert audit_rows(action="project.updated")[0][-1] == {"settings": [{}, settings_]}


def test_update_without_a_real_change_writes_nothing(people):
    before_row = project_row(people.project)
    before = counts()

    services.project_update(
        project=people.project,
        actor=people.manager,
        name=" Reviews ",
        description=people.project.description,
        overlap=1,
    )

    assert project_row(people.project) == before_row
    assert counts() == before


@pytest.mark.parametrize(
    ("fields", "code", "status"),
    [
        ({"name": "Taken"}, "name_taken", 409),
        ({"name": ""}, "invalid_name", 400),
        ({"overlap": 0}, "invalid_overlap", 400),
        ({"settings": "loud"}, "invalid_settings", 400),
        ({"archived_at": None}, "unknown_field", 400),
        ({"organisation": 2}, "unknown_field", 400),
    ],
    ids=["name-taken", "blank-name", "overlap-0", "settings-string", "archived_at", "organisation"],
)
def test_update_refuses_bad_changes_and_changes_nothing(people, fields, code, status):
    ProjectFactory(organisation=people.organisation, name="Taken")
    before_row = project_row(people.project)
    before = counts()

    with pytest.raises(DomainError) as error:
        services.project_update(project=people.project, actor=people.manager, **fields)

    assert (error.value.code, error.value.status_code) == (code, status)
    assert project_row(people.project) == before_row
    assert counts() == before


def test_update_may_take_a_name_used_in_another_organisation(people):
    services.project_update(project=people.project, actor=people.manager, name="Globex secrets")

    assert Project.objects.get(pk=people.project.pk).name == "Globex secrets"


def test_archived_project_cannot_be_updated(people):
    services.project_archive(project=people.project, actor=people.manager)
    before_row = project_row(people.project)
    before = counts()

    with pytest.raises(DomainError) as error:
        services.project_update(project=people.project, actor=people.manager, name="Renamed")

    assert (error.value.code, error.value.status_code) == ("project_archived", 409)
    assert project_row(people.project) == before_row
    assert counts() == before


# --- project_archive / project_unarchive ----------------------------------------------------------


def test_archive_sets_archived_at_and_is_audited(people):
    project = services.project_archive(project=people.project, actor=people.manager)

    assert project.archived_at is not None
    assert project_row(people.project)["archived_at"] == project.archived_at
    assert audit_rows(action="project.archived") == [
        (
            "project.archived",
            "manager",
            people.organisation.id,
            people.project.id,
            "projects.project",
            str(people.project.id),
            {},
        )
    ]


def test_archive_twice_is_idempotent(people):
    first = services.project_archive(project=people.project, actor=people.manager).archived_at
    before = counts()

    second = services.project_archive(project=people.project, actor=people.org_admin)

    assert second.archived_at == first
    assert counts() == before
    assert len(audit_rows(action="project.archived")) == 1


def test_unarchive_makes_the_project_writable_again(people):
    services.project_archive(project=people.project, actor=people.manager)

    project = services.project_unarchive(project=people.project, actor=people.manager)

    assert project.archived_at is None
    assert project_row(people.project)["archived_at"] is None
    assert [row[0] for row in audit_rows(project_id=people.project.id)] == [
        "project.archived",
        "project.unarchived",
    ]
    services.project_update(project=people.project, actor=people.manager, name="Writable")
    assert Project.objects.get(pk=people.project.pk).name == "Writable"


def test_unarchive_of_an_active_project_is_a_no_op(people):
    before_row = project_row(people.project)
    before = counts()

    services.project_unarchive(project=people.project, actor=people.manager)

    assert project_row(people.project) == before_row
    assert counts() == before


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


# --- project_stats_refresh ------------------------------------------------------------------------


EXPECTED_STATS = {
    "members": 4,
    "managers": 1,
    "reviewers": 1,
    "annotators": 2,
    "schema_versions": 2,
    "guideline_versions": 1,
}


@pytest.fixture
def busy_project(people):
    ProjectMembershipFactory(project=people.project, user=people.org_member, role="annotator")
    for labels in (["pos"], ["pos", "neg"]):
        services.schema_version_create(
            project=people.project, actor=people.manager, definition=label_schema(*labels)
        )
    services.guideline_version_create(project=people.project, actor=people.manager, body="# Be kind")
    ProjectMembershipFactory(project=people.other_project, user=UserFactory(username="elsewhere"))
    return people.project


def test_stats_refresh_counts_exactly(busy_project):
    stats = services.project_stats_refresh(project_id=busy_project.id)

    assert stats.as_dict() == EXPECTED_STATS
    assert ProjectStats.objects.get(project=busy_project).as_dict() == EXPECTED_STATS


def test_stats_refresh_is_idempotent(busy_project):
    first = services.project_stats_refresh(project_id=busy_project.id)

    second = services.project_stats_refresh(project_id=busy_project.id)

    assert ProjectStats.objects.filter(project=busy_project).count() == 1
    assert second.as_dict() == first.as_dict() == EXPECTED_STATS
    assert second.computed_at >= first.computed_at


def test_stats_refresh_of_a_deleted_project_does_nothing(people):
    missing = Project.objects.order_by("-id").first().id + 1000

    result = services.project_stats_refresh(project_id=missing)

    assert result is None
    assert ProjectStats.objects.exists() is False


def test_membership_change_refreshes_stats_through_the_outbox(people, django_capture_on_commit_callbacks):
    services.project_stats_refresh(project_id=people.project.id)
    assert ProjectStats.objects.get(project=people.project).members == 3

    with django_capture_on_commit_callbacks(execute=True):
        services.project_member_add(
            project=people.project, actor=people.manager, username="org_member", role="annotator"
        )

    message = OutboxMessage.objects.get()
    assert (message.task_name, message.kwargs, message.attempts, message.last_error) == (
        STATS_TASK,
        {"project_id": people.project.id},
        1,
        "",
    )
    assert message.dispatched_at is not None
    assert ProjectStats.objects.get(project=people.project).as_dict() == {
        "members": 4,
        "managers": 1,
        "reviewers": 1,
        "annotators": 2,
        "schema_versions": 0,
        "guideline_versions": 0,
    }


def test_outbox_message_waits_until_commit(people, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.project_member_add(
            project=people.project, actor=people.manager, username="org_member", role="annotator"
        )

    assert OutboxMessage.objects.get().dispatched_at is None
    assert ProjectStats.objects.filter(project=people.project).exists() is False
    assert len(callbacks) == 2  # the websocket announcement and the outbox dispatch
