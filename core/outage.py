"""A dependency that is down (PostgreSQL, Redis) answers 503 with `Retry-After`, never a bare 500.

- `outage_kind(exc)` says whether an exception means "a service is unavailable" ("database",
  "redis"), or None for a real bug (which stays a 500).
- `outage_response(request, kind)` is the answer: JSON `{"code": "service_unavailable", "detail",
  "service"}` under /api/, a small self-contained HTML page elsewhere (rendering the normal layout
  would need the database), always with `Retry-After`.
- The API handler (core.exceptions) and `server_error` (Django's handler500, for everything raised
  outside DRF: middleware, pages) both answer through it.
- `OutageMiddleware` (outermost) retries a GET or HEAD once, on a fresh connection, when the
  database connection was lost underneath it (a PostgreSQL restart, a failover, a killed backend).
  Reads are idempotent; writes are never replayed: the client gets the 503 and decides.
"""

import logging
import sys

from django.conf import settings
from django.db import connections
from django.db.utils import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

SERVICE_UNAVAILABLE = "service_unavailable"
_RETRYABLE = "_tessera_outage_retryable"
_MESSAGES = {
    "database": "The database is unavailable right now. Nothing was changed by a request that got "
    "this answer unless it says otherwise; try again in a few seconds.",
    "redis": "A background service (Redis) is unavailable right now. Try again in a few seconds.",
}


def _redis_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = []
    try:
        import redis.exceptions

        errors += [redis.exceptions.ConnectionError, redis.exceptions.TimeoutError]
    except ImportError:  # pragma: no cover - redis is a runtime dependency
        pass
    try:
        import kombu.exceptions

        errors.append(kombu.exceptions.OperationalError)  # a Celery publish without a broker
    except ImportError:  # pragma: no cover
        pass
    return tuple(errors)


_REDIS_ERRORS = _redis_errors()


def outage_kind(exc: BaseException | None) -> str | None:
    """ "database" or "redis" when `exc` (or what caused it) means the service is unreachable."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, OperationalError | InterfaceError):
            return "database"
        if _REDIS_ERRORS and isinstance(exc, _REDIS_ERRORS):
            return "redis"
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def database_connection_lost() -> bool:
    """Whether a connection this thread was using broke (a restart, a failover, a killed backend).
    A connection that could not be opened at all is not "lost": retrying would only wait again."""
    for conn in connections.all(initialized_only=True):
        raw = conn.connection
        if raw is not None and (getattr(raw, "closed", False) or getattr(raw, "broken", False)):
            return True
    return False


def outage_response(request, kind: str, error: BaseException | None = None):
    """The 503 answer for `request`. Marked retryable when the database connection was lost."""
    logger.warning("%s unavailable: %s: %s", kind, type(error).__name__, error)
    retry_after = str(settings.CORE_RETRY_AFTER_SECONDS)
    detail = _MESSAGES[kind]
    if request is None or request.path.startswith("/api/"):
        response = JsonResponse({"code": SERVICE_UNAVAILABLE, "detail": detail, "service": kind}, status=503)
    else:
        response = HttpResponse(_PAGE.format(detail=detail), status=503, content_type="text/html")
    response["Retry-After"] = retry_after
    response["Cache-Control"] = "no-store"
    if kind == "database" and database_connection_lost():
        setattr(response, _RETRYABLE, True)
    return response


def mark(response, kind: str):
    """Give a response built elsewhere (DRF's) the outage headers and retry marker."""
    response["Retry-After"] = str(settings.CORE_RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    if kind == "database" and database_connection_lost():
        setattr(response, _RETRYABLE, True)
    return response


def server_error(request, *args, **kwargs):
    """handler500: an outage becomes a 503; anything else stays Django's plain 500."""
    error = sys.exc_info()[1]
    kind = outage_kind(error)
    if kind is not None:
        return outage_response(request, kind, error)
    from core.views import server_error as plain_server_error  # our JSON or error page, no details

    return plain_server_error(request)


def _close_lost_connections() -> None:
    for conn in connections.all(initialized_only=True):
        raw = conn.connection
        dead = raw is not None and (getattr(raw, "closed", False) or getattr(raw, "broken", False))
        if dead or conn.errors_occurred:
            try:
                conn.close()
            except Exception:  # closing a dead connection may itself fail; it is discarded anyway
                conn.connection = None


class OutageMiddleware:
    """Outermost: retries an idempotent read once when the database connection was lost under it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(response, _RETRYABLE, False):
            _close_lost_connections()  # the next request (or the retry) starts on a fresh connection
            if request.method in ("GET", "HEAD"):
                logger.warning(
                    "database connection lost in %s %s; retrying once", request.method, request.path
                )
                response = self.get_response(request)
        return response


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Temporarily unavailable</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; padding: 0 1rem">
<h1>Temporarily unavailable</h1>
<p>{detail}</p>
<p>Error code: <code>service_unavailable</code>. <a href="">Reload</a></p>
</body></html>
"""
