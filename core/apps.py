from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self):
        from celery.signals import worker_ready, worker_shutdown

        from . import scheduler

        # A Celery worker records that it is alive (for /healthz); see core/scheduler.py.
        worker_ready.connect(scheduler.on_worker_ready, weak=False, dispatch_uid="core.worker_ready")
        worker_shutdown.connect(scheduler.on_worker_shutdown, weak=False, dispatch_uid="core.worker_shutdown")
        scheduler.embedded_scheduler_start()  # only with in-process jobs in a thread (`make run`)
