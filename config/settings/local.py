"""`make run`: embedded defaults. DEBUG is off unless DJANGO_DEBUG=1: whoever reaches the server sees our
JSON errors and error pages, never Django's debug page with settings and tracebacks."""

from .base import *  # noqa: F403
from .env import env_bool

DEBUG = env_bool("DJANGO_DEBUG", default=False)
# `make run` sets CORE_TASKS_IN_THREAD=1 for the web server only: imports then run beside it in a
# thread. Management commands keep running jobs inline, so they finish before the command exits.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
WHITENOISE_USE_FINDERS = True  # serve frontend/dist and app static files without collectstatic
WHITENOISE_AUTOREFRESH = True

# Embedded mode keeps its database and files under VAR_DIR: make sure it exists on a fresh machine.
(VAR_DIR / "media").mkdir(parents=True, exist_ok=True)  # noqa: F405
