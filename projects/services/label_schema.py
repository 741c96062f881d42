"""Writes on the versioned label schema: new versions and label migrations."""

import json
from typing import Any

from django.conf import settings
from django.db import transaction

from core import task_names
from core.audit import audit_record
from core.exceptions import DomainError
from core.services import outbox_enqueue

from ..models import (
    LabelMigration,
    LabelSchemaVersion,
    Project,
)
from ..schema import validate_schema
from ..schema.migrate import plan_label_migration
from ..selectors import schema_latest
from .common import (
    project_ensure_active,
    project_lock,
    version_append,
)


def _validate_schema_definition(definition: Any) -> None:
    if not isinstance(definition, dict):
        raise DomainError("invalid_schema", "A label schema must be a JSON object.")
    encoded = json.dumps(definition, ensure_ascii=False)
    if len(encoded.encode()) > settings.PROJECTS_SCHEMA_MAX_BYTES:
        raise DomainError(
            "schema_too_large", f"A label schema may be at most {settings.PROJECTS_SCHEMA_MAX_BYTES} bytes."
        )
    if "\\u0000" in encoded:
        raise DomainError("invalid_schema", "A label schema may not contain NUL characters.")
    issues = validate_schema(definition)
    if issues:
        raise DomainError(
            "invalid_schema",
            f"The label schema has {len(issues)} problem(s); the first: {issues[0].path or 'schema'}: "
            f"{issues[0].message}",
            extra={"errors": [{"path": i.path, "code": i.code, "message": i.message} for i in issues[:100]]},
        )


@transaction.atomic
def schema_version_create(*, project: Project, actor, definition: dict, note: str = "") -> LabelSchemaVersion:
    """Append a new schema version (max + 1). Earlier versions are never changed."""
    project = project_lock(project)
    project_ensure_active(project)
    _validate_schema_definition(definition)
    return version_append(LabelSchemaVersion, project=project, actor=actor, note=note, definition=definition)


# --- Label migrations ---------------------------------------------------------------------------------


LABEL_MIGRATION_TASK = task_names.LABEL_MIGRATION_APPLY


@transaction.atomic
def schema_labels_migrate(*, project: Project, actor, operations: Any, note: str = "") -> LabelMigration:
    """Rename, merge, split or delete labels: a new schema version made from the newest one, recorded
    as a LabelMigration. Old annotations keep their version and stay readable; the annotation app
    sends items whose annotations used a split or deleted label back to review (after commit)."""
    project = project_lock(project)
    project_ensure_active(project)
    latest = schema_latest(project=project)
    if latest is None:
        raise DomainError("no_schema", "This project has no label schema to migrate.", status_code=409)
    plan = plan_label_migration(latest.definition, operations)
    if plan.issues:
        issue = plan.issues[0]
        raise DomainError(
            "invalid_migration",
            f"{issue.path}: {issue.message}",
            extra={"errors": [{"path": i.path, "code": i.code, "message": i.message} for i in plan.issues]},
        )
    note = note or "Label migration: " + "; ".join(describe_label_operation(op) for op in operations)
    version = schema_version_create(project=project, actor=actor, definition=plan.definition, note=note[:500])
    migration = LabelMigration.objects.create(
        project=project, from_version=latest, to_version=version, operations=operations, created_by=actor
    )
    audit_record(
        actor=actor,
        organisation_id=project.organisation_id,
        project_id=project.id,
        action="schema.labels_migrated",
        target=migration,
        changes={
            "from_version": latest.version,
            "to_version": version.version,
            "operations": operations,
            "re_review": {name: sorted(labels) for name, labels in plan.re_review.items()},
        },
    )
    # Always: the job sends items with split/deleted labels back to review (when there are any) and
    # has the quality app re-read old answers under the new label names.
    outbox_enqueue(task_name=LABEL_MIGRATION_TASK, kwargs={"migration_id": migration.id})
    return migration


def describe_label_operation(operation: dict) -> str:
    """One label operation in words: "merge pos, very_pos -> positive in sentiment"."""

    def names(value) -> str:
        return ", ".join(map(str, value)) if isinstance(value, list) else str(value)

    if operation["op"] == "delete":
        return f"delete {operation['label']} in {operation['control']}"
    return (
        f"{operation['op']} {names(operation['from'])} -> {names(operation['to'])} in {operation['control']}"
    )
