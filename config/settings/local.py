"""`make run`: embedded defaults, DEBUG on unless DJANGO_DEBUG says otherwise."""

from .base import *  # noqa: F403
from .env import env_bool

DEBUG = env_bool("DJANGO_DEBUG", default=True)
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
WHITENOISE_USE_FINDERS = True  # serve frontend/dist and app static files without collectstatic
WHITENOISE_AUTOREFRESH = True
