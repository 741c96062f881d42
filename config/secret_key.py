"""Is this SECRET_KEY fit for production? One pure check, used by production settings and the container.

Django's own deploy check (``django.core.checks.security.base``, W009/W025) only *warns*, and only
when someone runs ``check --deploy``. Production settings call :func:`secret_key_problems` at import
and refuse to start; ``docker/entrypoint.sh`` runs ``python -m config.secret_key`` before anything
else, so a container with a weak key stops with the same message before migrating.

Rules (Django's constants and its ``_check_secret_key`` logic, plus a list of keys that are public):

- at least ``SECRET_KEY_MIN_LENGTH`` (50) characters and ``SECRET_KEY_MIN_UNIQUE_CHARACTERS`` (5)
  distinct characters, and not starting with ``django-insecure-``;
- not one of the keys written in this repository (the development default, the docker-compose
  example, the Dockerfile's old build-time key): anyone who has read the source knows them.

The same rules apply to every key in ``SECRET_KEY_FALLBACKS`` (key rotation, docs/SECURITY.md).
"""

from __future__ import annotations

import os
import sys

from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
    _check_secret_key,
)

# Keys that appear in this repository (or appeared in a released version of it). Never usable.
KNOWN_PUBLIC_KEYS = frozenset(
    {
        "insecure-tessera-development-key-change-me",  # config/settings/base.py DEFAULT_SECRET_KEY
        "example-only-insecure-compose-key-change-me-0123456789",  # docker-compose.yml, until 2026-12
        "build-only-collectstatic-key-never-used-at-runtime",  # Dockerfile build step, until 2026-12
    }
)

GENERATE_HINT = "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"


def secret_key_problem(key: str, *, name: str = "DJANGO_SECRET_KEY") -> str | None:
    """Why `key` must not be used in production, or None when it may."""
    if not key:
        return f"{name} is not set."
    if key in KNOWN_PUBLIC_KEYS:
        return (
            f"{name} is an example key published in Tessera's source code; anyone can forge sessions with it."
        )
    if not _check_secret_key(key):
        return (
            f"{name} is too weak: it needs at least {SECRET_KEY_MIN_LENGTH} characters, at least "
            f"{SECRET_KEY_MIN_UNIQUE_CHARACTERS} different characters, and must not start with "
            f"{SECRET_KEY_INSECURE_PREFIX!r} (it has {len(key)} characters, {len(set(key))} different)."
        )
    return None


def secret_key_problems(key: str, fallbacks: list[str] | tuple[str, ...] = ()) -> list[str]:
    """Every problem with the key and its fallbacks, each a sentence ending with how to fix it."""
    problems = [secret_key_problem(key)]
    problems += [
        secret_key_problem(old, name=f"DJANGO_SECRET_KEY_FALLBACKS[{index}]")
        for index, old in enumerate(fallbacks)
    ]
    return [p for p in problems if p]


def refusal_message(problems: list[str]) -> str:
    return (
        " ".join(problems)
        + f" Generate a key with: {GENERATE_HINT} (see docs/SECURITY.md, 'Secret key and rotation')."
    )


def main() -> int:
    """`python -m config.secret_key`: exit 1 with the reason when the environment's key is unfit."""
    fallbacks = [p.strip() for p in os.environ.get("DJANGO_SECRET_KEY_FALLBACKS", "").split(",") if p.strip()]
    problems = secret_key_problems(os.environ.get("DJANGO_SECRET_KEY", ""), fallbacks)
    if problems:
        print(f"Refusing to start: {refusal_message(problems)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
