"""Writes on metadata field types."""

from django.db import transaction

from core.audit import audit_record
from core.exceptions import DomainError
from projects.models import Project
from projects.services import project_ensure_active

from ..models import MetadataField
from .metadata_indexes import metadata_indexes_schedule


@transaction.atomic
def metadata_field_update(*, project: Project, actor, field_id: int, type: str) -> MetadataField:
    """Set a metadata field's type by hand. Later imports never change a type set this way."""
    project_ensure_active(project)
    field = MetadataField.objects.select_for_update().filter(project=project, pk=field_id).first()
    if field is None:
        raise DomainError("not_found", "Not found.", status_code=404)
    if type not in MetadataField.Type.values:
        raise DomainError(
            "invalid_type", f"Unknown type {type!r}; use one of {', '.join(MetadataField.Type.values)}."
        )
    old = field.type
    field.type = type
    field.inferred = False
    field.save(update_fields=["type", "inferred"])
    if old != type:
        metadata_indexes_schedule(project_id=project.id)  # number/date keys get a range index
    audit_record(
        actor=actor,
        organisation_id=project.organisation_id,
        project_id=project.id,
        action="metadata_field.updated",
        target=field,
        changes={"name": field.name, "type": [old, type]},
    )
    return field
