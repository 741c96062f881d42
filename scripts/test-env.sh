#!/usr/bin/env bash
# Prints `export` lines that point the tests at PostgreSQL and Redis on 127.0.0.1.
# With CI=true (or without --optional and TESSERA_REQUIRE_SERVICES=1) a service that does not
# answer is an error; otherwise the tests fall back to SQLite / in-memory with a loud warning.
set -uo pipefail
optional=0; [ "${1:-}" = "--optional" ] && optional=1
require=0
if [ "${CI:-}" = "true" ] || [ "${TESSERA_REQUIRE_SERVICES:-}" = "1" ]; then require=1; fi
[ $optional = 1 ] && [ "${CI:-}" != "true" ] && require=0

PG_URL=${TESSERA_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/tessera}
REDIS=${TESSERA_TEST_REDIS_URL:-redis://127.0.0.1:6379/0}
PY=${PYTHON_BIN:-.venv/bin/python}

answers() {  # host port
  "$PY" - "$1" "$2" <<'PYCODE'
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2).close()
except OSError:
    sys.exit(1)
PYCODE
}

if answers 127.0.0.1 5432; then
  echo "export DATABASE_URL='$PG_URL'"
elif [ $require = 1 ]; then
  echo "echo 'PostgreSQL on 127.0.0.1:5432 does not answer; CI needs it (see .ci/run).' >&2; exit 1"; exit 0
else
  echo "echo 'WARNING: PostgreSQL not reachable: tests run on SQLite only.' >&2"
fi
if answers 127.0.0.1 6379; then
  echo "export REDIS_URL='$REDIS' TESSERA_TEST_REDIS_URL='$REDIS'"
elif [ $require = 1 ]; then
  echo "echo 'Redis on 127.0.0.1:6379 does not answer; CI needs it (see .ci/run).' >&2; exit 1"; exit 0
else
  echo "echo 'WARNING: Redis not reachable: worker and Redis-layer tests are skipped.' >&2"
fi
[ $require = 1 ] && echo "export TESSERA_REQUIRE_SERVICES=1"
exit 0
