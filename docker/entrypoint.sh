#!/bin/sh
# Container entrypoint: optionally apply migrations, then run the given command (web by default).
# Set RUN_MIGRATIONS=1 on exactly one container per release (see docs/DEPLOY.md); never on every
# web replica, or they race each other.
set -eu

if [ "${RUN_MIGRATIONS:-0}" = "1" ]; then
    python manage.py migrate --noinput
fi

exec "$@"
