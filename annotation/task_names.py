"""The Celery names of annotation's tasks, in one place (HOUSE.md: names that survive a move).

Each string is the name the task had when Celery derived it from the module path; rows already in the
outbox (core.models.OutboxMessage.task_name) and the beat schedule carry these strings, so they never
change when a task's module moves. Tasks declare `name=` from here; services enqueue with these.
"""

IMPORT_JOB_RUN = "annotation.tasks.import_job_run_task"
SPLIT_RUN = "annotation.tasks.split_run_task"
LEASE_RELEASE_EXPIRED = "annotation.tasks.lease_release_expired_task"
ITEM_TARGETS_SYNC = "annotation.tasks.item_targets_sync_task"
QUEUE_ORDER_APPLY = "annotation.tasks.queue_order_apply_task"
LABEL_MIGRATION_APPLY = "annotation.tasks.label_migration_apply_task"
NEAR_DUPLICATES_DETECT = "annotation.tasks_neardup.near_duplicates_detect_task"
BUCKET_SOURCE_SYNC = "annotation.tasks_sources.bucket_source_sync_task"

ALL = (
    IMPORT_JOB_RUN,
    SPLIT_RUN,
    LEASE_RELEASE_EXPIRED,
    ITEM_TARGETS_SYNC,
    QUEUE_ORDER_APPLY,
    LABEL_MIGRATION_APPLY,
    NEAR_DUPLICATES_DETECT,
    BUCKET_SOURCE_SYNC,
)
