#!/bin/sh
# Container entrypoint: check the secret key, optionally apply migrations, then run the given command
# (web by default). Set RUN_MIGRATIONS=1 on exactly one container per release (see docs/DEPLOY.md);
# never on every web replica, or they race each other.
set -eu

# Refuse a missing, short, low-variety or published DJANGO_SECRET_KEY (and fallbacks) before anything
# runs: the same rules as config.settings.production (config/secret_key.py, docs/SECURITY.md).
case "${DJANGO_SETTINGS_MODULE:-}" in
    config.settings.production) python -m config.secret_key ;;
esac

if [ "${RUN_MIGRATIONS:-0}" = "1" ]; then
    python manage.py migrate --noinput
fi

exec "$@"
