"""The Redis behind the shared cache, for counters and versions that need Redis' atomic
commands (``INCR``) rather than the cache API's get / set.

``CACHE_URL=redis://...`` makes Django's own Redis cache backend the ``default`` cache; then
:func:`redis_client` is a client on that same server and database, and the API throttle and the
catalog cache token use it. With the embedded demo's database cache it is ``None`` and they keep
their database path (one upsert, one single-row read).
"""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings

REDIS_CACHE_BACKEND = "django.core.cache.backends.redis.RedisCache"

#: Prefix of every key Billow writes there itself (the cache's own keys carry Django's prefix).
KEY_PREFIX = "billow:"


def redis_url() -> str | None:
    """The URL of the default cache when it is Redis, else None."""
    conf = settings.CACHES.get("default", {})
    if conf.get("BACKEND") != REDIS_CACHE_BACKEND:
        return None
    location = conf.get("LOCATION")
    if isinstance(location, list | tuple):
        location = location[0]  # the primary of a list of servers
    return str(location) if location else None


@functools.cache
def _client(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


def redis_client() -> Any | None:
    """A ``redis.Redis`` on the shared cache's server (one pool per process), or None."""
    url = redis_url()
    return None if url is None else _client(url)
