"""The Redis cache, degraded gracefully: the cache holds only what can be lost.

Everything Tessera keeps in the cache is a hint (queue cursors, live progress of a job, split
counts, anonymous rate-limit history): with Redis down, a read is a miss and a write is dropped,
logged once per outage, so requests keep working on PostgreSQL alone. Keys under
`CORE_CACHE_STRICT_PREFIXES` (the sign-in lockout counters) are the exception: a security control
must not silently switch off, so their errors propagate and the request answers 503
(core.outage).
"""

import logging
import time

from django.conf import settings
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

_READS = {"get_many": dict, "has_key": False}
_WRITES = {
    "set": None,
    "add": False,
    "touch": False,
    "delete": False,
    "set_many": list,
    "delete_many": None,
    "incr": None,
    "clear": False,
}


def _errors() -> tuple[type[BaseException], ...]:
    import redis.exceptions

    return (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


class ResilientRedisCache(RedisCache):
    """django.core.cache.backends.redis.RedisCache that survives a Redis outage (see module doc)."""

    _last_warning = 0.0

    def __init__(self, server, params):
        options = dict(params.get("OPTIONS") or {})
        # Fail fast: a request must not hang on a Redis that does not answer.
        options.setdefault("socket_connect_timeout", 1)
        options.setdefault("socket_timeout", 2)
        super().__init__(server, {**params, "OPTIONS": options})

    def _strict(self, key) -> bool:
        prefixes = getattr(settings, "CORE_CACHE_STRICT_PREFIXES", ())
        keys = key if isinstance(key, list | tuple | dict) else [key]
        return any(str(k).startswith(prefix) for k in keys for prefix in prefixes)

    def _degrade(self, name: str, key, error: BaseException, fallback):
        if self._strict(key):
            raise error
        now = time.monotonic()
        if now - ResilientRedisCache._last_warning > 30:
            ResilientRedisCache._last_warning = now
            logger.warning("cache unavailable, %s treated as a miss/no-op: %s", name, error)
        return fallback() if callable(fallback) else fallback

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version=version)
        except _errors() as error:
            return self._degrade("get", key, error, lambda: default)

    def get_or_set(self, key, default, timeout=None, version=None):
        try:
            return super().get_or_set(key, default, timeout=timeout, version=version)
        except _errors() as error:
            fallback = default() if callable(default) else default
            return self._degrade("get_or_set", key, error, lambda: fallback)

    def incr(self, key, delta=1, version=None):
        try:
            return super().incr(key, delta, version=version)
        except _errors() as error:
            if self._strict(key):
                raise
            # A missing key is what incr reports as ValueError; callers already handle it.
            self._degrade("incr", key, error, None)
            raise ValueError(f"Key {key!r} not found (cache unavailable).") from error


def _wrap(name: str, fallback):
    base = getattr(RedisCache, name)

    def method(self, key, *args, **kwargs):
        try:
            return base(self, key, *args, **kwargs)
        except _errors() as error:
            return self._degrade(name, key, error, fallback)

    method.__name__ = name
    method.__doc__ = base.__doc__
    return method


for _name, _fallback in {**_READS, **_WRITES}.items():
    if _name in ("incr", "clear"):
        continue
    setattr(ResilientRedisCache, _name, _wrap(_name, _fallback))
