"""The audit log is append-only: the model, the queryset, the database and the API all refuse changes."""

import pytest
from django.db import DatabaseError, connection, transaction

from core.audit import audit_record
from core.models import AppendOnlyError, AuditEvent
from projects import services

pytestmark = pytest.mark.django_db

ON_POSTGRESQL = connection.vendor == "postgresql"


@pytest.fixture
def event(people):
    services.project_update(project=people.project, actor=people.manager, overlap=2)
    return AuditEvent.objects.get(action="project.updated")


def stored(event: AuditEvent) -> dict:
    return AuditEvent.objects.filter(pk=event.pk).values().get()


def test_services_append_rows(people):
    audit_record(
        actor=people.manager, organisation_id=people.organisation.id, action="x.done", target=people.project
    )

    row = AuditEvent.objects.values(
        "actor_id", "actor_label", "action", "target_type", "target_id", "changes"
    ).get()
    assert row == {
        "actor_id": people.manager.id,
        "actor_label": "manager",
        "action": "x.done",
        "target_type": "projects.project",
        "target_id": str(people.project.id),
        "changes": {},
    }


def test_anonymous_actor_is_recorded_as_system(people):
    event = audit_record(
        actor=None, organisation_id=people.organisation.id, action="x.done", target=people.project
    )

    assert (event.actor_id, event.actor_label) == (None, "system")


def test_saving_an_existing_row_raises(event):
    before = stored(event)
    event.action = "project.deleted"

    with pytest.raises(AppendOnlyError):
        event.save()

    assert stored(event) == before


def test_queryset_update_raises(event):
    before = stored(event)

    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="project.deleted")

    assert stored(event) == before


def test_queryset_delete_raises(event):
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()

    assert AuditEvent.objects.filter(pk=event.pk).exists() is True


def test_instance_delete_raises(event):
    with pytest.raises(AppendOnlyError):
        event.delete()

    assert AuditEvent.objects.filter(pk=event.pk).exists() is True


def test_database_refuses_a_raw_update(event):
    before = stored(event)

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET action = %s WHERE id = %s", ["project.deleted", event.pk])

    assert stored(event) == before


@pytest.mark.skipif(not ON_POSTGRESQL, reason="SQLite keeps DELETE open for Django's test flush")
def test_database_refuses_a_raw_delete(event):
    with pytest.raises(DatabaseError) as error, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [event.pk])

    assert "core_auditevent is append-only (DELETE refused)" in str(error.value)
    assert AuditEvent.objects.filter(pk=event.pk).exists() is True


@pytest.mark.skipif(not ON_POSTGRESQL, reason="the message comes from the PostgreSQL trigger")
def test_database_names_the_refused_operation(event):
    with pytest.raises(DatabaseError) as error, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET changes = '{}'::jsonb")

    assert "core_auditevent is append-only (UPDATE refused)" in str(error.value)


def test_a_rolled_back_write_leaves_no_audit_row(people):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.project_update(project=people.project, actor=people.manager, overlap=2)
        raise RuntimeError("the surrounding work failed")

    assert AuditEvent.objects.exists() is False


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_audit_endpoint_accepts_only_reads(people, client_for, event, method):
    client = client_for(people.org_admin)
    before = list(AuditEvent.objects.order_by("id").values())

    response = getattr(client, method)(
        f"/api/organisations/{people.organisation.id}/audit-events/", {"action": "x"}, format="json"
    )

    assert response.status_code == 405
    assert response.json() == {
        "code": "method_not_allowed",
        "detail": f'Method "{method.upper()}" not allowed.',
    }
    assert list(AuditEvent.objects.order_by("id").values()) == before


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_there_is_no_route_to_a_single_audit_event(people, client_for, event, method):
    client = client_for(people.org_admin)
    before = list(AuditEvent.objects.order_by("id").values())

    response = getattr(client, method)(
        f"/api/organisations/{people.organisation.id}/audit-events/{event.id}/"
    )

    assert response.status_code == 404
    assert list(AuditEvent.objects.order_by("id").values()) == before
