"""The Celery app. Tasks live in <app>/tasks.py, are thin and take their names from core/task_names.py
(docs/STYLE.md section 4).

Queues by kind (docs/DEPLOY.md "Queues"): settings.CORE_TASK_KINDS maps a task name to its kind;
`route_by_kind` sends it to "<default queue>.<kind>" (the default queue itself for kind "default"),
so a long near-duplicate scan never sits in front of an import. A worker started without -Q consumes
the queues of settings.CORE_WORKER_KINDS (all of them unless the environment says otherwise).
"""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("tessera")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def task_kind(name: str) -> str:
    """The kind of the task called `name` ("default" when it has none)."""
    from django.conf import settings

    return settings.CORE_TASK_KINDS.get(name, "default")


def queue_name(kind: str, default: str | None = None) -> str:
    """The queue of a kind. Read at call time: tests point the default queue elsewhere."""
    default = default or app.conf.task_default_queue
    return default if kind == "default" else f"{default}.{kind}"


def queue_names(default: str | None = None) -> list[str]:
    """Every kind's queue (a worker's -Q that consumes them all)."""
    from django.conf import settings

    return [queue_name(kind, default) for kind in settings.CORE_QUEUE_KINDS]


def route_by_kind(name, args=None, kwargs=None, options=None, task=None, **extra) -> dict:
    """CELERY_TASK_ROUTES: every task to the queue of its kind."""
    return {"queue": queue_name(task_kind(name))}


@signals.celeryd_init.connect
def _consume_worker_kinds(sender=None, instance=None, options=None, **extra) -> None:
    if options and options.get("queues"):  # -Q given on the command line: it decides
        return
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    unknown = sorted(set(settings.CORE_WORKER_KINDS) - set(settings.CORE_QUEUE_KINDS))
    if unknown:  # a typo would consume a queue nobody sends to, and the real one would starve
        raise ImproperlyConfigured(
            f"CORE_WORKER_KINDS: unknown kind(s) {', '.join(unknown)}; "
            f"known: {', '.join(settings.CORE_QUEUE_KINDS)}"
        )
    instance.app.amqp.queues.select([queue_name(kind) for kind in settings.CORE_WORKER_KINDS])
