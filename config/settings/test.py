"""Tests. `make test` sets DATABASE_URL/REDIS_URL to the PostgreSQL and Redis on 127.0.0.1.

Unit tests run Celery eagerly with an in-memory channel layer (docs/STYLE.md section 7); the integration
tests start a real worker and a Redis channel layer themselves (tests/integration/).
"""

from .base import *  # noqa: F403
from .env import env_bool

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True
if not env_bool("TESSERA_TEST_REDIS_LAYER", default=False):
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if env_bool("TESSERA_TEST_REDIS_CACHE", default=False):  # integration servers count feed sockets in Redis
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,  # noqa: F405
            "KEY_PREFIX": CHANNEL_LAYERS["default"].get("CONFIG", {}).get("prefix", ""),
        }
    }
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "10000/minute"}}  # noqa: F405
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
QUALITY_DEBOUNCE_SECONDS = 0.0  # eager jobs run inline: no waiting in unit tests
QUALITY_RECOMPUTE_GAP_SECONDS = 0.0
# Per-project index DDL after every import would pile up in the shared test database;
# tests/annotation/test_metadata_indexes.py turns it on.
ANNOTATION_METADATA_INDEXES = env_bool("ANNOTATION_METADATA_INDEXES", default=False)
ANNOTATION_SEARCH_INDEX = env_bool("ANNOTATION_SEARCH_INDEX", default=False)  # test_search_index.py builds it
