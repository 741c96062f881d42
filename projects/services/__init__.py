"""Writes on organisations and projects, one module per responsibility:

- common: project_lock, project_ensure_active (other apps call both), version_append, task names
- projects: organisations, projects (create, update, archive), stats, projects from Label Studio
- members: project members, their workflow levers, pausing
- label_schema: schema versions and label migrations
- guidelines: guideline versions and acknowledgements

Each function is one rule; each write is audited and announced on the project's feed after commit.
More than forty modules call `services.<name>` on this package, so it re-exports every write.
"""

from .accounts import account_delete
from .common import (
    GROUP_NAME,
    ITEM_TARGETS_TASK,
    QUEUE_ORDER_TASK,
    STATS_TASK,
    project_ensure_active,
    project_lock,
    version_append,
)
from .guidelines import guideline_acknowledge, guideline_version_create
from .label_schema import (
    LABEL_MIGRATION_TASK,
    describe_label_operation,
    schema_labels_migrate,
    schema_version_create,
)
from .members import (
    project_member_add,
    project_member_change_role,
    project_member_pause,
    project_member_quality_update,
    project_member_remove,
    project_member_resume,
    project_member_workflow_update,
)
from .projects import (
    labelstudio_schema_preview,
    organisation_create,
    organisation_member_add,
    organisation_member_credentials_revoke,
    organisation_member_remove,
    project_archive,
    project_create,
    project_create_from_labelstudio,
    project_stats_refresh,
    project_unarchive,
    project_update,
)

__all__ = [
    "GROUP_NAME",
    "ITEM_TARGETS_TASK",
    "LABEL_MIGRATION_TASK",
    "QUEUE_ORDER_TASK",
    "STATS_TASK",
    "account_delete",
    "describe_label_operation",
    "guideline_acknowledge",
    "guideline_version_create",
    "labelstudio_schema_preview",
    "organisation_create",
    "organisation_member_add",
    "organisation_member_credentials_revoke",
    "organisation_member_remove",
    "project_archive",
    "project_create",
    "project_create_from_labelstudio",
    "project_ensure_active",
    "project_lock",
    "project_member_add",
    "project_member_change_role",
    "project_member_pause",
    "project_member_quality_update",
    "project_member_remove",
    "project_member_resume",
    "project_member_workflow_update",
    "project_stats_refresh",
    "project_unarchive",
    "project_update",
    "schema_labels_migrate",
    "schema_version_create",
    "version_append",
]
