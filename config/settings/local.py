"""`make run`: embedded defaults, DEBUG on unless DJANGO_DEBUG says otherwise."""

from .base import *  # noqa: F403
from .env import env_bool

DEBUG = env_bool("DJANGO_DEBUG", default=True)
CORE_TASKS_IN_THREAD = env_bool("CORE_TASKS_IN_THREAD", default=True)  # imports run beside the web server
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
WHITENOISE_USE_FINDERS = True  # serve frontend/dist and app static files without collectstatic
WHITENOISE_AUTOREFRESH = True
