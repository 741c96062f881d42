"""Celery task names: a contract, not an implementation detail.

`OutboxMessage.task_name` stores these strings until a worker runs the job, and beat schedules them, so a
task's name must outlive any move of its module. Every task sets `name=` to its entry here, and every
`outbox_enqueue(task_name=...)` uses a constant from here. The values are the names Celery generated
before names were explicit (`<module>.<function>`): rows written then still resolve.

`scripts/check_contracts.py` (run by `make lint` and tests/core/test_contracts.py) fails when a name here,
in the beat schedule or passed to `outbox_enqueue` anywhere is not a registered task. Renaming one is a
migration: keep the old name registered until no pending row carries it.

Strings only: core names other apps' tasks without importing them (projects schedules annotation jobs).
"""

# core
OUTBOX_RELAY = "core.tasks.outbox_relay_task"
JOBS_REAP = "core.tasks.jobs_reap_task"

# projects
PROJECT_STATS_REFRESH = "projects.tasks.project_stats_refresh_task"

# annotation (their decorators are annotation's; the names are the contract)
ITEM_TARGETS_SYNC = "annotation.tasks.item_targets_sync_task"
QUEUE_ORDER_APPLY = "annotation.tasks.queue_order_apply_task"
LABEL_MIGRATION_APPLY = "annotation.tasks.label_migration_apply_task"
IMPORT_JOB_RUN = "annotation.tasks.import_job_run_task"
SPLIT_RUN = "annotation.tasks.split_run_task"
LEASE_RELEASE_EXPIRED = "annotation.tasks.lease_release_expired_task"
NEAR_DUPLICATES_DETECT = "annotation.tasks_neardup.near_duplicates_detect_task"
PII_DETECT = "annotation.pii.detect"  # personal-data detection over a project's items
BUCKET_SOURCE_SYNC = "annotation.tasks_sources.bucket_source_sync_task"
ITEMS_BULK_ACTION_RUN = "annotation.items.bulk_action_run"  # the data manager's bulk actions on a filter
ITEMS_METADATA_INDEXES_ENSURE = "annotation.items.metadata_indexes_ensure"  # sorted metadata ranges (PG)

# quality
QUALITY_RECOMPUTE = "quality.tasks.quality_recompute_task"

# exports
RELEASE_BUILD = "exports.tasks.release_build_task"
RELEASE_REPRODUCE = "exports.tasks.release_reproduce_task"

# governance
RETENTION_RUN_DUE = "governance.tasks.retention_run_due_task"  # daily: each project's retention rules


def all_task_names() -> dict[str, str]:
    """Constant name -> task name, for the contract check."""
    return {key: value for key, value in globals().items() if key.isupper() and isinstance(value, str)}
