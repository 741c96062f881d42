"""Every setting lives here and reads the environment.

Defaults are the embedded ones (SQLite under var/, in-process Celery, in-memory channel layer, local
disk under var/media/). DATABASE_URL, REDIS_URL and AWS_STORAGE_BUCKET_NAME switch to PostgreSQL,
Redis (Celery broker + Channels layer) and S3. local/test/production.py only change what differs.
"""

from pathlib import Path

import dj_database_url

from .env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("TESSERA_VAR_DIR", str(BASE_DIR / "var")))

# A development key; production.py refuses to start with it.
DEFAULT_SECRET_KEY = "insecure-tessera-development-key-change-me"  # noqa: S105
SECRET_KEY = env_str("DJANGO_SECRET_KEY", DEFAULT_SECRET_KEY)
# Old keys still accepted for signed data (sessions, password-reset links) during a rotation:
# docs/SECURITY.md, "Secret key and rotation". Comma-separated, newest first.
SECRET_KEY_FALLBACKS = env_list("DJANGO_SECRET_KEY_FALLBACKS", [])
DEBUG = env_bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "core",
    "accounts",
    "projects",
    "annotation",
    "quality",
    "exports",
    "governance",
    "demo",  # seed_demo (`make run`): the one place that may know every app
]

MIDDLEWARE = [
    "core.outage.OutageMiddleware",  # outermost: retries a GET/HEAD once if the database connection was lost
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.HostileQueryMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.SecurityHeadersMiddleware",
    "core.middleware.DomainErrorPageMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = None
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "projects.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    # Persistent connections are per thread and ASGI runs sync code in many threads, so they are
    # off by default (Django's advice for ASGI); put PgBouncer in front for pooling.
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))}
    # A reused connection (persistent or from the pool) is checked before use, so one that a PostgreSQL
    # restart killed is replaced instead of failing the request (docs/DEPLOY.md, "Outages").
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = env_bool("DB_HEALTH_CHECKS", default=True)
    if env_bool("DB_POOL", default=False):
        # psycopg's pool (Django 5.1+): connections are shared across ASGI threads and returned at the
        # end of each request, so a request does not pay for a new connection (about 5 ms). The pool
        # needs CONN_MAX_AGE 0.
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env_int("DB_POOL_MIN", 2),
            "max_size": env_int("DB_POOL_MAX", 20),
            "timeout": env_int("DB_POOL_TIMEOUT", 10),  # seconds a request waits for a connection
        }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "tessera.sqlite3",
            # WAL + a busy timeout let the dev server and in-process tasks share the file.
            "OPTIONS": {
                "timeout": env_int("SQLITE_BUSY_TIMEOUT", 20),  # seconds a writer waits for the lock
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Auth -----------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "project-list"
LOGOUT_REDIRECT_URL = "login"
ACCOUNTS_LOGIN_MAX_FAILURES = env_int("ACCOUNTS_LOGIN_MAX_FAILURES", 5)  # failures per username+IP
ACCOUNTS_LOGIN_LOCKOUT_SECONDS = env_int("ACCOUNTS_LOGIN_LOCKOUT_SECONDS", 900)  # window and lockout, seconds
ACCOUNTS_TOKEN_TOUCH_SECONDS = env_int("ACCOUNTS_TOKEN_TOUCH_SECONDS", 60)  # last_used_at write granularity
# Creating an API token over a browser session needs the password in the request, or a password
# confirmation in this session within this many seconds (accounts/reauth.py, docs/SECURITY.md).
ACCOUNTS_REAUTH_SECONDS = env_int("ACCOUNTS_REAUTH_SECONDS", 300)
ACCOUNTS_TOKEN_CREATE_MAX = env_int("ACCOUNTS_TOKEN_CREATE_MAX", 10)  # token creation attempts per user...
ACCOUNTS_TOKEN_CREATE_WINDOW_SECONDS = env_int("ACCOUNTS_TOKEN_CREATE_WINDOW_SECONDS", 3600)  # ...per window

# --- Internationalisation -------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "frontend" / "dist"]
FRONTEND_MANIFEST = BASE_DIR / "frontend" / "dist" / ".vite" / "manifest.json"
VITE_DEV_SERVER_URL = env_str("VITE_DEV_SERVER_URL")  # e.g. http://127.0.0.1:5173 while developing
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"

AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME")
if AWS_STORAGE_BUCKET_NAME:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env_str("AWS_S3_ENDPOINT_URL") or None,
            "region_name": env_str("AWS_S3_REGION_NAME") or None,
            "access_key": env_str("AWS_ACCESS_KEY_ID") or None,
            "secret_key": env_str("AWS_SECRET_ACCESS_KEY") or None,
            "default_acl": None,
            "querystring_auth": True,  # media is only ever reached through signed URLs
            "querystring_expire": env_int("AWS_QUERYSTRING_EXPIRE", 300),  # seconds
            "signature_version": "s3v4",
            "file_overwrite": False,
        },
    }
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT)},
    }
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Redis, Celery, Channels ----------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None  # long jobs record progress on model rows, not in a result backend
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "tessera")
# Queues by kind (docs/DEPLOY.md "Queues"): a long job of one kind never waits behind another kind's.
# Kind "default" is CELERY_TASK_DEFAULT_QUEUE itself; every other kind is "<default queue>.<kind>".
# Tasks not listed run on the default queue (short jobs: stats, the beat sweeps, the outbox relay).
CORE_TASK_KINDS = {
    "annotation.tasks.import_job_run_task": "imports",  # core.task_names.IMPORT_JOB_RUN
    "annotation.tasks_sources.bucket_source_sync_task": "imports",  # BUCKET_SOURCE_SYNC
    "annotation.tasks.split_run_task": "imports",  # SPLIT_RUN: rewrites item rows like an import
    "annotation.tasks.label_migration_apply_task": "imports",  # LABEL_MIGRATION_APPLY
    "quality.tasks.quality_recompute_task": "quality",  # QUALITY_RECOMPUTE
    "annotation.tasks_neardup.near_duplicates_detect_task": "neardup",  # NEAR_DUPLICATES_DETECT
    "annotation.pii.detect": "neardup",  # PII_DETECT: a scan over every item, like near-duplicates
    "exports.tasks.release_build_task": "releases",  # RELEASE_BUILD
    "exports.tasks.release_reproduce_task": "releases",  # RELEASE_REPRODUCE
    "annotation.items.bulk_action_run": "imports",  # ITEMS_BULK_ACTION_RUN: set-based item rewrites
    "annotation.items.metadata_indexes_ensure": "imports",  # ITEMS_METADATA_INDEXES_ENSURE: index DDL
    "governance.tasks.retention_run_due_task": "imports",  # RETENTION_RUN_DUE: deletes files and items
}
CORE_QUEUE_KINDS = ("default", "imports", "quality", "neardup", "releases", "models", "webhooks")
CELERY_TASK_ROUTES = ("config.celery.route_by_kind",)
# The kinds a worker consumes when started without -Q (compose runs one worker per group of kinds).
CORE_WORKER_KINDS = tuple(env_list("CORE_WORKER_KINDS") or CORE_QUEUE_KINDS)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_PUBLISH_RETRY = False  # the outbox retries; a publish must fail fast when Redis is down
CELERY_BEAT_SCHEDULE = {
    "outbox-relay": {"task": "core.tasks.outbox_relay_task", "schedule": 10.0},
    "lease-release": {"task": "annotation.tasks.lease_release_expired_task", "schedule": 30.0},
    "jobs-reap": {"task": "core.tasks.jobs_reap_task", "schedule": 30.0},  # jobs whose worker died
    # Each project's retention rules (docs/GOVERNANCE.md#retention). Hourly: a project runs when its last
    # run is 20 h old, so a missed beat or a restart delays a run by an hour, not a day.
    "retention": {"task": "governance.tasks.retention_run_due_task", "schedule": 3600.0},
}
# Broker outages: a worker retries its connection for ever (Celery's default gives up after 100 tries,
# about 45 minutes, and the worker exits); docs/DEPLOY.md "Outages".
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CORE_JOB_HEARTBEAT_SECONDS = env_int("CORE_JOB_HEARTBEAT_SECONDS", 10)  # a running job proves it is alive
CORE_JOB_STALE_SECONDS = env_int("CORE_JOB_STALE_SECONDS", 60)  # no beat for this long: its worker died
CORE_TASKS_IN_THREAD = env_bool("CORE_TASKS_IN_THREAD", default=False)  # embedded mode: jobs in a thread
CORE_OUTBOX_BATCH = env_int("CORE_OUTBOX_BATCH", 200)  # messages relayed per sweep
CORE_OUTBOX_RETRY_SECONDS = env_int("CORE_OUTBOX_RETRY_SECONDS", 10)  # a pending message waits this long
CORE_RETRY_AFTER_SECONDS = env_int("CORE_RETRY_AFTER_SECONDS", 5)  # Retry-After of a 503 during an outage

# channels_redis receives with a blocking BZPOPMIN of 5 s (RedisChannelLayer.brpop_timeout); redis-py
# 8 reads with a default socket timeout of 5 s, so an idle socket's receive raced the reply and died
# with redis TimeoutError. The socket timeout must stay well above the blocking read; a health check
# and TCP keepalive still notice a dead Redis (tests/integration/test_feed_redis.py).
CHANNELS_REDIS_SOCKET_TIMEOUT = env_int("CHANNELS_REDIS_SOCKET_TIMEOUT", 30)
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_timeout": CHANNELS_REDIS_SOCKET_TIMEOUT,
                        "socket_connect_timeout": 5,
                        "socket_keepalive": True,
                        "health_check_interval": 30,
                    }
                ],
                "prefix": env_str("CHANNELS_PREFIX", "tessera:asgi"),
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# The live feed (projects/consumers.py; close codes in docs/SECURITY.md#live-feed).
REALTIME_MAX_SOCKETS_PER_USER = env_int("REALTIME_MAX_SOCKETS_PER_USER", 10)  # counted in the cache
REALTIME_MAX_BAD_FRAMES = env_int("REALTIME_MAX_BAD_FRAMES", 10)  # malformed frames per window, then 4400
REALTIME_BAD_FRAMES_WINDOW_SECONDS = env_int("REALTIME_BAD_FRAMES_WINDOW_SECONDS", 60)

CACHES = {
    "default": (
        # Redis down: reads miss, writes are dropped (the cache holds only hints), see core/cache.py.
        {"BACKEND": "core.cache.ResilientRedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# Cache keys whose errors must not be swallowed: the sign-in lockout fails closed (503) without Redis.
CORE_CACHE_STRICT_PREFIXES = ["login-failures:"]

# --- REST framework and OpenAPI -------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],  # refuses NUL, deep nesting, infinities
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.DefaultPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "core.exceptions.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.AnonRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"anon": env_str("API_ANON_RATE", "60/minute")},
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Proxies in front of the app; 0 means throttles key on REMOTE_ADDR, never on a client-set header.
    "NUM_PROXIES": env_int("DJANGO_NUM_PROXIES", 0),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Tessera API",
    "DESCRIPTION": (
        "Organisations, projects, members, versioned label schemas and guidelines, API tokens and the "
        "audit log. Authenticate with `Authorization: Bearer <token>` (create one on the API tokens page "
        'or at POST /api/tokens/). Errors are `{"code": ..., "detail": ...}`.'
    ),
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/",
    "ENUM_NAME_OVERRIDES": {
        "OrganisationRoleEnum": "projects.models.OrganisationMembership.Role",
        "ProjectRoleEnum": "projects.models.ProjectMembership.Role",
    },
}

# --- Security -------------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
# Extra origins pages may load images/media from (signed S3 URLs); derived from the S3 settings.
_s3_origin = env_str("AWS_S3_ENDPOINT_URL").rstrip("/") or (
    f"https://{AWS_STORAGE_BUCKET_NAME}.s3.amazonaws.com" if AWS_STORAGE_BUCKET_NAME else ""
)
CORE_CSP_MEDIA_ORIGINS = env_list("CORE_CSP_MEDIA_ORIGINS", [_s3_origin] if AWS_STORAGE_BUCKET_NAME else [])
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Request bodies that stall or trickle get a 408 (core/body_timeout.py; uvicorn has no such limit).
REQUEST_BODY_TIMEOUT_SECONDS = env_int("REQUEST_BODY_TIMEOUT_SECONDS", 30)  # no new bytes for this long
REQUEST_BODY_MIN_BYTES_PER_SECOND = env_int("REQUEST_BODY_MIN_BYTES_PER_SECOND", 1024)  # average, after that
API_JSON_MAX_DEPTH = env_int("API_JSON_MAX_DEPTH", 100)  # deeper bodies: 400 json_too_deep (as imports)
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2 * 1024 * 1024)  # bytes per JSON body

# --- Projects -------------------------------------------------------------------------------------
PROJECTS_DEFAULT_OVERLAP = env_int("PROJECTS_DEFAULT_OVERLAP", 1)  # annotators per item
PROJECTS_MAX_OVERLAP = env_int("PROJECTS_MAX_OVERLAP", 50)  # annotators per item
PROJECTS_SCHEMA_MAX_BYTES = env_int("PROJECTS_SCHEMA_MAX_BYTES", 256 * 1024)  # JSON size of one schema
PROJECTS_GUIDELINE_MAX_CHARS = env_int("PROJECTS_GUIDELINE_MAX_CHARS", 200_000)  # Markdown characters

# --- Data import ----------------------------------------------------------------------------------
ANNOTATION_IMPORT_MAX_BYTES = env_int("ANNOTATION_IMPORT_MAX_BYTES", 2 * 1024**3)  # bytes per uploaded file
ANNOTATION_IMPORT_MAX_RECORD_BYTES = env_int(
    "ANNOTATION_IMPORT_MAX_RECORD_BYTES", 16 * 1024**2
)  # bytes per item
ANNOTATION_IMPORT_ERROR_SAMPLE = env_int("ANNOTATION_IMPORT_ERROR_SAMPLE", 20)  # errors kept on the job row
ANNOTATION_MAX_BYTES = env_int("ANNOTATION_MAX_BYTES", 1024**2)  # JSON bytes of one annotation or draft
ANNOTATION_PREDICTIONS_MAX = env_int("ANNOTATION_PREDICTIONS_MAX", 10_000)  # predictions per request
ANNOTATION_BUCKET_ALLOW_HTTP = env_bool(
    "ANNOTATION_BUCKET_ALLOW_HTTP", default=False
)  # http:// endpoints (dev)
ANNOTATION_BUCKET_MAX_OBJECT_BYTES = env_int("ANNOTATION_BUCKET_MAX_OBJECT_BYTES", 500 * 1024**2)  # bytes
ANNOTATION_BUCKET_SYNC_BATCH = env_int("ANNOTATION_BUCKET_SYNC_BATCH", 10_000)  # objects per transaction
ANNOTATION_NEAR_DUPLICATES_AFTER_IMPORT = env_bool("ANNOTATION_NEAR_DUPLICATES_AFTER_IMPORT", default=True)
ANNOTATION_PII_AFTER_IMPORT = env_bool("ANNOTATION_PII_AFTER_IMPORT", default=True)  # personal-data scan
# PostgreSQL: after an import (or a type change) build per-key indexes for sorted metadata ranges.
ANNOTATION_METADATA_INDEXES = env_bool("ANNOTATION_METADATA_INDEXES", default=True)
# PostgreSQL: after an import build the project's trigram text search index (annotation.items.search_index).
ANNOTATION_SEARCH_INDEX = env_bool("ANNOTATION_SEARCH_INDEX", default=True)
# PostgreSQL: next item and first submissions in a few set-based statements (annotation/workflow/services,
# docs/WORKFLOW.md "The hot path"); off, every call takes the general ORM path (same decisions).
LABELING_LEAN_PATH = env_bool("LABELING_LEAN_PATH", default=True)
# PostgreSQL: an import of a file this large (about 20,000 records of a few hundred bytes) into a project
# that has the trigram search index drops it first and rebuilds it after the load (search_index_suspend).
ANNOTATION_IMPORT_SEARCH_INDEX_DROP_BYTES = env_int("ANNOTATION_IMPORT_SEARCH_INDEX_DROP_BYTES", 5 * 1024**2)
# How long that DROP INDEX CONCURRENTLY waits for a lock (e.g. behind another index build) before the
# import goes ahead with the index in place.
ANNOTATION_IMPORT_SEARCH_INDEX_DROP_WAIT = env_str("ANNOTATION_IMPORT_SEARCH_INDEX_DROP_WAIT", "5s")
ANNOTATION_INDEX_BUILD_MEMORY = env_str("ANNOTATION_INDEX_BUILD_MEMORY", "256MB")  # maintenance_work_mem
ANNOTATION_NEAR_DUPLICATE_TEXT_THRESHOLD = float(
    env_str("ANNOTATION_NEAR_DUPLICATE_TEXT_THRESHOLD", "0.8")
)  # Jaccard similarity of character 5-gram sets
ANNOTATION_NEAR_DUPLICATE_IMAGE_DISTANCE = env_int(
    "ANNOTATION_NEAR_DUPLICATE_IMAGE_DISTANCE", 6
)  # dHash bits, 0-16
ANNOTATION_SPLIT_INLINE_MAX_ITEMS = env_int("ANNOTATION_SPLIT_INLINE_MAX_ITEMS", 100_000)  # larger: a worker
ANNOTATION_IMPORT_WORK_MEM = env_str(
    "ANNOTATION_IMPORT_WORK_MEM", "256MB"
)  # PostgreSQL work_mem for the load
ANNOTATION_IMPORT_ANALYZE_ROWS = env_int(
    "ANNOTATION_IMPORT_ANALYZE_ROWS", 10_000
)  # new items that refresh stats
ANNOTATION_IMPORT_PROGRESS_EVERY = env_int(
    "ANNOTATION_IMPORT_PROGRESS_EVERY", 25_000
)  # records between events
FILE_UPLOAD_MAX_MEMORY_SIZE = env_int(
    "FILE_UPLOAD_MAX_MEMORY_SIZE", 2_621_440
)  # bytes; larger go to temp files
# Media files and ZIP archives of media (annotation/imports/media.py, archive.py; docs/DATA.md).
ANNOTATION_MEDIA_MAX_BYTES = env_int("ANNOTATION_MEDIA_MAX_BYTES", 1024**3)  # bytes per media file
ANNOTATION_MEDIA_MAX_IMAGE_PIXELS = env_int(
    "ANNOTATION_MEDIA_MAX_IMAGE_PIXELS", 89_478_485
)  # width x height per image (Pillow's default)
ANNOTATION_ZIP_MAX_MEMBERS = env_int("ANNOTATION_ZIP_MAX_MEMBERS", 50_000)  # files per archive
ANNOTATION_ZIP_MAX_TOTAL_BYTES = env_int(
    "ANNOTATION_ZIP_MAX_TOTAL_BYTES", 20 * 1024**3
)  # bytes, uncompressed
ANNOTATION_ZIP_MAX_RATIO = env_int("ANNOTATION_ZIP_MAX_RATIO", 100)  # uncompressed / compressed, per file
ANNOTATION_MEDIA_PROXY_MAX_BYTES = env_int(
    "ANNOTATION_MEDIA_PROXY_MAX_BYTES", 1024**3
)  # bytes of one media URL streamed to the browser
ANNOTATION_MEDIA_PROXY_TIMEOUT = env_int(
    "ANNOTATION_MEDIA_PROXY_TIMEOUT", 300
)  # seconds per media URL stream

# --- Egress (core.egress: every outbound HTTP request) --------------------------------------------
CORE_EGRESS_MAX_BYTES = env_int("CORE_EGRESS_MAX_BYTES", 50 * 1024 * 1024)  # bytes of one response body
CORE_EGRESS_CONNECT_TIMEOUT = env_int("CORE_EGRESS_CONNECT_TIMEOUT", 5)  # seconds per connect / DNS lookup
CORE_EGRESS_TIMEOUT = env_int("CORE_EGRESS_TIMEOUT", 30)  # seconds for a whole request, redirects included
CORE_EGRESS_MAX_REDIRECTS = env_int("CORE_EGRESS_MAX_REDIRECTS", 5)  # redirect hops followed
# CIDRs reachable although private/loopback/...: an operator decision, see docs/EGRESS.md.
# Comma-separated, e.g. "10.20.0.0/16,fd12:3456::/48". Cloud metadata addresses stay blocked.
CORE_EGRESS_ALLOWED_NETWORKS = env_list("CORE_EGRESS_ALLOWED_NETWORKS", [])  # list of CIDRs

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- quality (quality/services/, docs/QUALITY.md) -----------------------------------------------------
QUALITY_DEBOUNCE_SECONDS = float(
    env_str("QUALITY_DEBOUNCE_SECONDS", "0.15" if REDIS_URL else "0.4")
)  # a burst of submits: one recompute (embedded mode: longer, it shares the web process with labeling)
QUALITY_RECOMPUTE_GAP_SECONDS = float(
    env_str("QUALITY_RECOMPUTE_GAP_SECONDS", "1.0" if REDIS_URL else "2.0")
)  # least time between the starts of two passes of one busy project (people labeling nonstop)
QUALITY_RECOMPUTE_MAX_PASSES = env_int(
    "QUALITY_RECOMPUTE_MAX_PASSES", 20
)  # passes one job makes for a busy project before it hands over to a new message
# Off only in benchmarks of the web path that run jobs inline (no worker): the schedule's UPDATE still
# runs, the recompute job is not enqueued (bench/benchmarks/labeling.py).
QUALITY_ENQUEUE = env_bool("QUALITY_ENQUEUE", default=True)
QUALITY_FULL_EVERY_SECONDS = env_int(
    "QUALITY_FULL_EVERY_SECONDS", 3600
)  # incremental runs between full refits

# --- exports (exports/services/, docs/RELEASES.md) -------------------------------------------------
# The Ed25519 key that signs every release's manifest.json (PEM, PKCS#8). Generated with mode 0600 on
# first use when the file does not exist (embedded mode); in production mount a key and back it up.
EXPORTS_SIGNING_KEY_PATH = env_str("EXPORTS_SIGNING_KEY_PATH", str(VAR_DIR / "release-signing-key.pem"))
EXPORTS_BUILD_CHUNK_DELAY = float(
    env_str("EXPORTS_BUILD_CHUNK_DELAY", "0")
)  # seconds slept after each chunk of items; tests only (a build slow enough to be killed midway)
EXPORTS_BUILD_STALE_SECONDS = env_int(
    "EXPORTS_BUILD_STALE_SECONDS", 3600
)  # without PostgreSQL: a building release older than this may be retried
EXPORTS_DIFF_MAX_ITEMS = env_int("EXPORTS_DIFF_MAX_ITEMS", 1000)  # items listed per kind in a release diff
# A second connection reads the next chunks ahead of the writer (sharing the build's snapshot); turn
# it off behind a pooler in transaction mode, where exported snapshots do not work.
EXPORTS_BUILD_READ_AHEAD = env_bool("EXPORTS_BUILD_READ_AHEAD", default=True)
EXPORTS_BUILD_CHUNK = env_int("EXPORTS_BUILD_CHUNK", 5000)  # items per fetch (and per consensus query)
# Release.Status is the fourth "status" enum in the API schema: name it (drf-spectacular warns otherwise).
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]["ReleaseStatusEnum"] = "exports.models.Release.Status"
# And PiiFinding.Status the fifth (personal-data findings: open, confirmed, dismissed).
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]["PiiFindingStatusEnum"] = "annotation.models.PiiFinding.Status"

# --- Governance (docs/GOVERNANCE.md) --------------------------------------------------------------------
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]["RetentionRunStatusEnum"] = (
    "governance.models.RetentionRun.Status"
)
