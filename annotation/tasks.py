"""Celery autodiscovery imports only <app>/tasks.py: this module registers the task modules of
annotation's feature packages. Every task's name is pinned in core/task_names.py."""

from .imports.tasks import import_job_run_task  # noqa: F401
from .items.manager_tasks import bulk_action_run_task, metadata_indexes_ensure_task  # noqa: F401
from .neardup.tasks import near_duplicates_detect_task  # noqa: F401
from .pii.tasks import pii_detect_task  # noqa: F401
from .sources.tasks import bucket_source_sync_task  # noqa: F401
from .splits.tasks import split_run_task  # noqa: F401
from .workflow.tasks import (  # noqa: F401
    item_targets_sync_task,
    label_migration_apply_task,
    lease_release_expired_task,
    queue_order_apply_task,
)
