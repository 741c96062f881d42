"""Create a project from a template: the project (with the template's overlap and settings), schema
version 1 and guidelines version 1, in one transaction, through the ordinary project services (so
validation, audit and events are theirs)."""

from django.db import transaction

from core.audit import audit_record
from core.exceptions import DomainError

from ..models import Organisation, Project
from ..services import guideline_version_create, project_create, schema_version_create
from .catalogue import template_get


def template_or_error(key: str) -> dict:
    template = template_get(key)
    if template is None:
        raise DomainError("unknown_template", f"There is no project template {key!r}.")
    return template


@transaction.atomic
def project_create_from_template(
    *, organisation: Organisation, actor, template: str, name: str, description: str = ""
) -> Project:
    chosen = template_or_error(template)
    project = project_create(
        organisation=organisation,
        actor=actor,
        name=name,
        description=description or chosen["summary"],
        overlap=chosen["overlap"],
        settings_=dict(chosen["settings"]),
    )
    schema_version_create(
        project=project, actor=actor, definition=chosen["schema"], note=f"From the template {chosen['title']}"
    )
    guideline_version_create(
        project=project, actor=actor, body=chosen["guidelines"], note=f"From the template {chosen['title']}"
    )
    audit_record(
        actor=actor,
        organisation_id=organisation.id,
        project_id=project.id,
        action="project.created_from_template",
        target=project,
        changes={"template": chosen["key"]},
    )
    return project
