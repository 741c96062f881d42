"""Optimistic concurrency on project settings: a stale editor never overwrites someone else's change."""

from datetime import timedelta

import pytest
from django.test import Client

from core.exceptions import DomainError
from core.models import AuditEvent
from projects.services import project_update

pytestmark = pytest.mark.django_db


def test_update_with_the_version_the_editor_saw_succeeds(people):
    project = people.project
    seen = project.updated_at

    updated = project_update(project=project, actor=people.manager, expected_updated_at=seen, overlap=3)

    assert updated.overlap == 3
    assert updated.updated_at > seen


def test_stale_update_is_refused_and_changes_nothing(people):
    project = people.project
    seen = project.updated_at
    project_update(project=project, actor=people.org_admin, description="Changed by the admin")
    audit_rows = AuditEvent.objects.count()

    with pytest.raises(DomainError) as error:
        project_update(project=project, actor=people.manager, expected_updated_at=seen, description="Stale")

    assert error.value.code == "stale_update"
    assert error.value.status_code == 409
    project.refresh_from_db()
    assert project.description == "Changed by the admin"
    assert AuditEvent.objects.count() == audit_rows


def test_api_refuses_stale_patch_with_409(people, client_for):
    project = people.project
    stale = (project.updated_at - timedelta(seconds=5)).isoformat()

    response = client_for(people.manager).patch(
        f"/api/projects/{project.id}/", {"name": "Renamed", "expected_updated_at": stale}, format="json"
    )

    assert response.status_code == 409
    assert response.json() == {
        "code": "stale_update",
        "detail": "Someone else changed this project after you opened it. "
        "Reload to see their change, then try again.",
    }
    project.refresh_from_db()
    assert project.name == "Reviews"


def test_settings_form_from_before_a_change_shows_the_conflict(people):
    project = people.project
    browser = Client()
    browser.force_login(people.manager)
    form_seen_at = browser.get(f"/projects/{project.id}/").context["form"].initial["expected_updated_at"]
    project_update(project=project, actor=people.org_admin, overlap=4)

    response = browser.post(
        f"/projects/{project.id}/",
        {"name": "Reviews", "description": "", "overlap": 2, "expected_updated_at": form_seen_at},
    )

    assert response.status_code == 400
    assert "Someone else changed this project after you opened it." in response.content.decode()
    project.refresh_from_db()
    assert project.overlap == 4
