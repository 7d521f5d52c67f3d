"""The billing run pays one query a chunk for rating when no addon is metered (not even the
last run's date is read)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from billow.billing.usage_charges import rate_chunk

pytestmark = pytest.mark.django_db


def test_rating_a_chunk_costs_one_query_when_no_addon_is_metered(
    django_assert_num_queries: Any,
) -> None:
    with django_assert_num_queries(1):
        rating = rate_chunk(day=date(2025, 4, 1), client_from=0, client_to=None)
    assert rating.charges == [] and rating.rated_marks is None
