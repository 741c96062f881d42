"""The one way to write the audit log. Services call audit_record inside their transaction."""

from typing import Any

from django.db import models

from .models import AuditEvent


def audit_record(
    *,
    actor,
    organisation_id: int | None,
    action: str,
    target: models.Model,
    project_id: int | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit row. Runs in the caller's transaction, so it commits or rolls back with the write."""
    actor_id, actor_label = audit_actor(actor)
    return AuditEvent.objects.create(
        actor_id=actor_id,
        actor_label=actor_label,
        organisation_id=organisation_id,
        project_id=project_id,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        changes=changes or {},
    )


def audit_actor(actor) -> tuple[int | None, str]:
    """The (actor_id, actor_label) an audit row records for `actor`: a user, or None and "system".
    For services that append audit rows inside a larger SQL statement (the lean submit path)."""
    if actor is not None and getattr(actor, "is_authenticated", False):
        return actor.pk, actor.get_username()
    return None, "system"


def diff_fields(instance: models.Model, new_values: dict[str, Any]) -> dict[str, list[Any]]:
    """{"field": [old, new]} for each value that really changes."""
    changes = {}
    for field, new in new_values.items():
        old = getattr(instance, field)
        if old != new:
            changes[field] = [old, new]
    return changes
