"""The resource status and the limit as pure rules."""

from __future__ import annotations

from decimal import Decimal

from billow.usage.rating_models import ResourceState
from billow.usage.status import reached_limit, resource_state


def test_status_is_normal_below_the_threshold_approaching_from_it_exceeded_above_included() -> None:
    included = Decimal(100)
    assert resource_state(Decimal("79.99"), included, 80) == ResourceState.NORMAL
    assert resource_state(Decimal(80), included, 80) == ResourceState.APPROACHING
    assert resource_state(Decimal(100), included, 80) == ResourceState.APPROACHING
    assert resource_state(Decimal("100.01"), included, 80) == ResourceState.EXCEEDED


def test_nothing_included_means_any_usage_is_over_it() -> None:
    assert resource_state(Decimal(0), Decimal(0), 80) == ResourceState.NORMAL
    assert resource_state(Decimal("0.001"), Decimal(0), 80) == ResourceState.EXCEEDED


def test_the_limit_is_reached_at_its_value_and_never_without_one() -> None:
    assert not reached_limit(Decimal("499.9"), Decimal(500))
    assert reached_limit(Decimal(500), Decimal(500))
    assert not reached_limit(Decimal(10**9), None)
