"""DRF throttles whose rates are read from settings on each request (tests can change them).

Counts are shared by all workers: with ``CACHE_URL=redis://...`` one atomic ``INCR`` (with an
expiry of two windows) per request on that Redis, else a ``ThrottleCounter`` row upserted once
per request (``api.sql.hit_throttle``); never DRF's read-modify-write of a timestamp list in
the cache. The limit is a sliding window approximated from two fixed windows: the requests
counted in this window plus the previous window's count weighted by the part of it still inside
the trailing ``duration``.
As with DRF, a refused request is not counted.
"""

from __future__ import annotations

import random
from typing import Any

from django.conf import settings
from django.db.models import F
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

from billow.api import sql
from billow.api.models import ThrottleCounter
from billow.core.shared_cache import KEY_PREFIX, redis_client

#: Rows whose window started longer ago than this are deleted (now and then).
_PRUNE_AFTER = 2 * 86400
_PRUNE_CHANCE = 0.01


def _rate(scope: str) -> str | None:
    rates = getattr(settings, "REST_FRAMEWORK", {}).get("DEFAULT_THROTTLE_RATES", {})
    return rates.get(scope)


def _redis_key(key: str, window: int) -> str:
    return f"{KEY_PREFIX}throttle:{key}:{window}"


def _hit(key: str, window: int, duration: int) -> tuple[int, int]:
    """(requests in this window counting this one, requests in the previous window)."""
    client = redis_client()
    if client is None:
        return sql.hit_throttle(key, window, duration)
    pipe = client.pipeline(transaction=True)  # MULTI: the INCR and its expiry go together
    pipe.incr(_redis_key(key, window))
    pipe.expire(_redis_key(key, window), 2 * duration)
    pipe.get(_redis_key(key, window - duration))
    count, _, previous = pipe.execute()
    return int(count), int(previous or 0)


def _undo(key: str, window: int) -> None:
    """Uncount a refused request (rare: the ORM's build cost does not matter here)."""
    client = redis_client()
    if client is not None:
        client.decr(_redis_key(key, window))
        return
    ThrottleCounter.objects.filter(key=key, window=window, count__gt=0).update(count=F("count") - 1)


def _prune(now: float) -> None:
    ThrottleCounter.objects.filter(window__lt=int(now) - _PRUNE_AFTER).delete()


class _CountingThrottle(SimpleRateThrottle):
    """``SimpleRateThrottle`` with the counting above instead of the cache history."""

    _wait: float | None = None

    def get_rate(self) -> str | None:
        return _rate(self.scope)

    def allow_request(self, request: Any, view: Any) -> bool:
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        now = self.timer()
        duration = int(self.duration)
        window = int(now // duration) * duration
        count, previous = _hit(key, window, duration)
        if count == 1 and random.random() < _PRUNE_CHANCE and redis_client() is None:
            _prune(now)
        weight = 1 - (now - window) / duration
        before = (count - 1) + previous * weight
        if before < self.num_requests:
            return True
        _undo(key, window)
        self._wait = self._wait_for(now, window, duration, count - 1, previous)
        return False

    def _wait_for(self, now: float, window: int, duration: int, count: int, previous: int) -> float:
        """Seconds until a request would fit (at least one)."""
        room = self.num_requests - count
        end = window + duration
        if room > 0 and previous > 0:
            # previous * (1 - (t - window) / duration) < room
            #   <=>  t > window + duration * (1 - room / previous)
            fits_at = window + duration * (1 - room / previous)
            return max(1.0, min(fits_at, end) - now)
        return max(1.0, end - now)

    def wait(self) -> float | None:
        return self._wait


class AnonThrottle(_CountingThrottle, AnonRateThrottle):
    pass


class UserThrottle(_CountingThrottle, UserRateThrottle):
    pass
