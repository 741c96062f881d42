"""Production settings refuse unsafe configuration; the embedded defaults need no service."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = secrets.token_urlsafe(50)


def _load(settings_module: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "REDIS_URL",
            "DJANGO_SECRET_KEY",
            "DJANGO_SECRET_KEY_FALLBACKS",
            "DJANGO_DEBUG",
        }
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
    assert "DJANGO_SECRET_KEY is an example key published in Tessera's source code" in result.stderr
    assert "secrets.token_urlsafe(50)" in result.stderr


WEAK_KEYS = {
    "compose example": "example-only-insecure-compose-key-change-me-0123456789",
    "dockerfile build key": "build-only-collectstatic-key-never-used-at-runtime",
    "32 random characters": "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF",
    "49 random characters": "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eFhJ4kL7nP0rS3uV6x",
    "long but four characters": "abcd" * 20,
    "django-insecure prefix": "django-insecure-" + "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eFhJ4kL7nP0",
}


@pytest.mark.parametrize("key", list(WEAK_KEYS.values()), ids=list(WEAK_KEYS))
def test_production_refuses_weak_and_published_keys(key):
    result = _load("config.settings.production", DJANGO_SECRET_KEY=key)

    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_SECRET_KEY is" in result.stderr


@pytest.mark.parametrize("key", list(WEAK_KEYS.values()), ids=list(WEAK_KEYS))
def test_container_entrypoint_refuses_weak_and_published_keys(key):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_SECRET_KEY")}
    result = subprocess.run(
        ["sh", "docker/entrypoint.sh", "echo", "started"],
        cwd=ROOT,
        env={
            **env,
            "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": key,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 1
    assert "started" not in result.stdout
    assert result.stderr.startswith("Refusing to start: DJANGO_SECRET_KEY is")


def test_container_entrypoint_starts_with_a_strong_key():
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_SECRET_KEY")}
    result = subprocess.run(
        ["sh", "docker/entrypoint.sh", "echo", "started"],
        cwd=ROOT,
        env={
            **env,
            "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": GOOD_KEY,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert (result.returncode, result.stdout) == (0, "started\n"), result.stderr


def test_production_checks_fallback_keys_too():
    weak = _load(
        "config.settings.production", DJANGO_SECRET_KEY=GOOD_KEY, DJANGO_SECRET_KEY_FALLBACKS="short-old-key"
    )
    strong = _load(
        "config.settings.production",
        DJANGO_SECRET_KEY=GOOD_KEY,
        DJANGO_SECRET_KEY_FALLBACKS=secrets.token_urlsafe(50),
    )

    assert weak.returncode != 0
    assert "DJANGO_SECRET_KEY_FALLBACKS[0] is too weak" in weak.stderr
    assert strong.returncode == 0, strong.stderr


def test_django_deploy_check_agrees_with_the_production_refusal():
    """Apart from the published keys, our refusal is Django's W009 rule (we import its constants)."""
    from django.core.checks.security.base import _check_secret_key

    from config.secret_key import KNOWN_PUBLIC_KEYS, secret_key_problem

    for key in [*WEAK_KEYS.values(), GOOD_KEY, "x" * 50, "xyzuv" * 10]:
        if key not in KNOWN_PUBLIC_KEYS:
            assert (secret_key_problem(key) is None) == _check_secret_key(key), key
    assert all(_check_secret_key(key) or len(key) < 50 for key in KNOWN_PUBLIC_KEYS)
    assert all(secret_key_problem(key) for key in KNOWN_PUBLIC_KEYS)


def test_production_refuses_debug():
    result = _load("config.settings.production", DJANGO_SECRET_KEY=GOOD_KEY, DJANGO_DEBUG="true")

    assert result.returncode != 0
    assert "DJANGO_DEBUG must be off in production." in result.stderr


def test_production_starts_with_a_real_key_and_switches_components_from_the_environment():
    result = _load(
        "config.settings.production",
        DJANGO_SECRET_KEY=GOOD_KEY,
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
