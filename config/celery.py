"""The Celery app. Tasks live in <app>/tasks.py, are thin and take their names from core/task_names.py
(docs/STYLE.md section 4)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("tessera")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
