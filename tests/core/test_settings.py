"""Production settings refuse unsafe configuration; the embedded defaults need no service."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _load(settings_module: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SECRET_KEY", "DJANGO_DEBUG"}
    }
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.DATABASES['default']['ENGINE'], settings.CELERY_TASK_ALWAYS_EAGER, "
            "settings.CHANNEL_LAYERS['default']['BACKEND'], settings.STORAGES['default']['BACKEND'])",
        ],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": settings_module, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_the_default_secret_key():
    result = _load("config.settings.production")

    assert result.returncode != 0
    assert "Set DJANGO_SECRET_KEY to a random value of at least 32 characters." in result.stderr


def test_production_refuses_debug():
    result = _load("config.settings.production", DJANGO_SECRET_KEY="x" * 50, DJANGO_DEBUG="true")

    assert result.returncode != 0
    assert "DJANGO_DEBUG must be off in production." in result.stderr


def test_production_starts_with_a_real_key_and_switches_components_from_the_environment():
    result = _load(
        "config.settings.production",
        DJANGO_SECRET_KEY="k" * 50,
        DATABASE_URL="postgres://u@db:5432/tessera",
        REDIS_URL="redis://cache:6379/0",
        AWS_STORAGE_BUCKET_NAME="tessera-media",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "False",
        "channels_redis.core.RedisChannelLayer",
        "storages.backends.s3.S3Storage",
    ]


def test_local_defaults_are_embedded():
    result = _load("config.settings.local")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "True",
        "channels.layers.InMemoryChannelLayer",
        "django.core.files.storage.FileSystemStorage",
    ]


def test_signed_s3_media_origin_is_allowed_by_the_content_security_policy():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from core.middleware import content_security_policy; "
            "print(content_security_policy())",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "AWS_STORAGE_BUCKET_NAME": "media",
            "AWS_S3_ENDPOINT_URL": "https://s3.example.org/",
        },
    )

    assert result.returncode == 0, result.stderr
    assert (
        "img-src 'self' data: blob: https://s3.example.org; media-src 'self' data: blob: https://s3.example.org;"
        in result.stdout
    )


def test_local_defaults_show_no_debug_page():
    """`make run` serves whoever reaches it: DEBUG stays off unless a developer sets DJANGO_DEBUG=1."""
    show = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    for env, expected in (({}, "False"), ({"DJANGO_DEBUG": "1"}, "True")):
        clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_DEBUG"}}
        result = subprocess.run(
            [sys.executable, "-c", show],
            cwd=ROOT,
            env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings.local", **env},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == expected
