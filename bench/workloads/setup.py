"""Shared setup of the PostgreSQL workloads: a manager, an organisation, one project with a schema
and `annotators` annotator members (passwords unusable: no hashing cost). Call after django.setup()."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class BenchProject:
    manager: object
    project: object
    schema: object  # the LabelSchemaVersion
    annotators: list


def bench_project(*, name: str, overlap: int, schema: dict, annotators: int, settings: dict | None = None):
    from django.contrib.auth import get_user_model

    from projects.models import LabelSchemaVersion, ProjectMembership
    from projects.services import organisation_create, project_create, project_update, schema_version_create

    User = get_user_model()
    manager = User.objects.create(username="bench-manager", password="!")
    organisation = organisation_create(name="Bench", slug="bench", creator=manager)
    project = project_create(organisation=organisation, actor=manager, name=name, overlap=overlap)
    schema_version_create(project=project, actor=manager, definition=schema)
    if settings:
        project_update(project=project, actor=manager, settings=settings)
    people = User.objects.bulk_create(
        [User(username=f"annotator{i:02d}", password="!") for i in range(annotators)]
    )
    ProjectMembership.objects.bulk_create(
        [ProjectMembership(project=project, user=u, role=ProjectMembership.Role.ANNOTATOR) for u in people]
    )
    return BenchProject(manager, project, LabelSchemaVersion.objects.get(project=project), people)
