"""Shared by the projects services: the project lock, the archived check, announcements, versions."""

import re
from typing import Any

from django.db.models import Max

from core import task_names
from core.audit import audit_record
from core.exceptions import DomainError
from core.realtime import broadcast_on_commit, project_group
from core.services import outbox_enqueue

from .. import events
from ..models import (
    GuidelineVersion,
    LabelSchemaVersion,
    Project,
)

GROUP_NAME = re.compile(r"[A-Za-z0-9_-]{1,100}")

STATS_TASK = task_names.PROJECT_STATS_REFRESH
ITEM_TARGETS_TASK = task_names.ITEM_TARGETS_SYNC
QUEUE_ORDER_TASK = task_names.QUEUE_ORDER_APPLY


def _schedule_stats(project: Project) -> None:
    outbox_enqueue(task_name=STATS_TASK, kwargs={"project_id": project.id})


def _announce(project: Project, event_type: str, actor, **data: Any) -> None:
    broadcast_on_commit(
        project_group(project.id),
        event_type,
        {"project_id": project.id, "actor": actor.get_username() if actor else "system", **data},
    )


def project_lock(project: Project) -> Project:
    """Lock the project's row for this transaction and return it fresh. Serialises writes to one
    project (versions, members, splits) without blocking other projects. Other apps call it too."""
    return Project.objects.select_for_update(of=("self",)).select_related("organisation").get(pk=project.pk)


def project_ensure_active(project: Project) -> None:
    """Refuse changes to an archived project (409 project_archived). Other apps call it too."""
    if project.archived_at is not None:
        raise DomainError(
            "project_archived", "This project is archived; unarchive it to make changes.", status_code=409
        )


_VERSION_EVENTS = {
    LabelSchemaVersion: events.SCHEMA_VERSION_CREATED,
    GuidelineVersion: events.GUIDELINE_VERSION_CREATED,
}


def version_append(model, *, project: Project, actor, note: str, **content: Any):
    """Append version max + 1 of a versioned project document (label schema, guidelines), audited and
    announced. Earlier versions are never changed. The caller holds project_lock and has validated."""
    latest = model.objects.filter(project=project).aggregate(v=Max("version"))["v"] or 0
    version = model.objects.create(
        project=project, version=latest + 1, note=note, created_by=actor, **content
    )
    event = _VERSION_EVENTS[model]
    audit_record(
        actor=actor,
        organisation_id=project.organisation_id,
        project_id=project.id,
        action=event,
        target=version,
        changes={"version": version.version, "note": note},
    )
    _announce(project, event, actor, version=version.version)
    _schedule_stats(project)
    return version
