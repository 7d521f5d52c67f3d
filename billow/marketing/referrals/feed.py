"""The seam through which the referral job reads what billing charged.

Marketing sits below billing, so it cannot read billing's expenses itself: the billing app
registers a ``ChargeFeed`` in its ``ready()`` and the referral job calls it with a query of the
clients it wants (a subquery, never a list of ids). The facts are net of tax; a refund or
credit is a fact with a negative ``net_minor``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from billow.core.errors import BillowError


@dataclass(frozen=True, slots=True)
class ChargeFact:
    id: int  # billing's expense id
    client_id: int
    provider_id: int
    service_id: int
    net_minor: int  # > 0 a charge, < 0 a refund or credit
    currency: str
    created_at: datetime
    period_from: date
    period_to: date


class ChargeFeed(Protocol):
    def __call__(self, *, client_ids: Any, since: datetime, until: datetime) -> list[ChargeFact]:
        """Charges, refunds and credits of ``client_ids`` (a queryset of ids) created in
        ``[since, until)``, oldest first."""
        ...


_feed: list[ChargeFeed] = []


def register_charge_feed(feed: ChargeFeed) -> ChargeFeed:
    """Called once by the billing app; a second registration replaces the first (tests)."""
    _feed[:] = [feed]
    return feed


def get_charge_feed() -> ChargeFeed:
    if not _feed:
        raise BillowError("no charge feed is registered", code="referral_feed_missing")
    return _feed[0]
