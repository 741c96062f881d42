from celery import shared_task

from core.task_names import ITEMS_BULK_ACTION_RUN, ITEMS_METADATA_INDEXES_ENSURE


@shared_task(name=ITEMS_BULK_ACTION_RUN, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def bulk_action_run_task(bulk_id: int) -> None:
    """Entry point only. Rules live in annotation.items.manager_services.bulk_action_run."""
    from core.jobs import job_heartbeat

    from .manager_services import bulk_action_run

    with job_heartbeat("bulk", bulk_id):  # a dead worker's action is failed by core.jobs.jobs_reap
        bulk_action_run(bulk_id=bulk_id)


@shared_task(name=ITEMS_METADATA_INDEXES_ENSURE, acks_late=True, ignore_result=True)
def metadata_indexes_ensure_task(project_id: int) -> None:
    """Entry point only: the indexes built after a load, annotation.items.metadata_indexes
    (metadata_indexes_ensure) and annotation.items.search_index (search_index_ensure)."""
    from django.conf import settings

    from .metadata_indexes import metadata_indexes_ensure
    from .search_index import search_index_ensure

    if settings.ANNOTATION_METADATA_INDEXES:
        metadata_indexes_ensure(project_id=project_id)
    if settings.ANNOTATION_SEARCH_INDEX:
        search_index_ensure(project_id=project_id)
