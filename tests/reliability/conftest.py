"""The standing reliability suite (``make reliability``; scripts/reliability.sh runs each file
as one check). Tests record how many attempts they made with the ``attempts`` fixture; the
script sums them per check from the JUnit XML."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.orders.shop import _isolated, shop

__all__ = ["_isolated", "attempts", "shop"]


@pytest.fixture
def attempts(record_property: Callable[[str, object], None]) -> Callable[[int], None]:
    """``attempts(n)``: this test made n attempts (parallel requests, kills, events ...)."""

    def record(n: int) -> None:
        record_property("attempts", n)

    return record
