"""projects.services: every write, its audit row, its rules, and that a refused write changes nothing."""

import pytest
from django.test import override_settings

from core.exceptions import DomainError
from core.models import AuditEvent, OutboxMessage
from projects import services
from projects.models import (
    Project,
    ProjectMembership,
    ProjectStats,
)
from tests.factories import (
    ProjectFactory,
    ProjectMembershipFactory,
    UserFactory,
    label_schema,
)
from tests.projects.services_kit import STATS_TASK, audit_rows, counts

pytestmark = pytest.mark.django_db


def project_row(project: Project) -> dict:
    return Project.objects.filter(pk=project.pk).values().get()


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
