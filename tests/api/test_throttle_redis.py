"""The API throttle on Redis (``CACHE_URL=redis://...``, the Redis pass of scripts/test.sh):
one atomic INCR per request with an expiry, nothing in the ThrottleCounter table."""

from __future__ import annotations

from typing import Any

import pytest

from billow.api.models import ThrottleCounter
from billow.core.shared_cache import KEY_PREFIX, redis_client
from tests.api.conftest import Tenant

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(redis_client() is None, reason="needs CACHE_URL=redis://..."),
]


def test_throttle_counts_in_redis_with_an_expiry(tenant_a: Tenant, settings: Any) -> None:
    rates = {"anon": "2/min", "user": "2/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    api = tenant_a.api()
    codes = [api.get("/api/v1/me/").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    client = redis_client()
    keys = client.keys(f"{KEY_PREFIX}throttle:*")
    assert len(keys) == 1
    assert int(client.get(keys[0])) == 2  # the refused request is not counted
    assert 0 < client.ttl(keys[0]) <= 120
    assert ThrottleCounter.objects.count() == 0
