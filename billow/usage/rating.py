"""Rating: what the overage of a closed period costs, as pure functions over plain rows (STYLE §9).

A statistics addon includes ``included`` units per rating period (a calendar month, reset on
the 1st, or a UTC day); every unit above it costs ``overage_price_minor`` minor units of the
addon's currency (a Decimal: sub-cent rates are fine). A period's amount due is the overage
times the price, rounded once (``core.money.round_minor``, half up).

The billing run charges a period once it has closed (``billing.usage_charges``): what is due
minus what was already charged for that service, meter and period (``UsageCharge``). A late
record that raises a closed period's usage therefore charges only the difference; rerating an
unchanged period charges nothing. Each charge's key names the period and the total due after
it (``usage:<service>:<addon>:<period start>:<total due>``), so a replay of the same charge is
refused by the expense and ledger keys as well. Usage that goes down after it was charged
(an ``average`` or ``last`` meter) is not credited back: the charge stands.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from billow.core.money import round_minor
from billow.core.periods import first_of_next_month

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class MeterTerms:
    """How one meter's usage is rated: its addon's included amount per period, overage price
    (minor units of ``currency`` per unit) and rating period."""

    meter_id: int
    addon_id: int
    name: str
    unit: str
    included: Decimal
    price_minor: Decimal
    per_day: bool
    currency: str


@dataclass(frozen=True, slots=True)
class PeriodUsage:
    """A service's usage on one meter over one rating period ``[period_from, period_to)``."""

    service_id: int
    client_id: int
    provider_id: int
    currency: str  # the service's
    meter_id: int
    period_from: date
    period_to: date
    value: Decimal


@dataclass(frozen=True, slots=True)
class OverageCharge:
    """Charge ``amount_minor`` now for a period whose overage costs ``due_minor`` in all."""

    service_id: int
    client_id: int
    provider_id: int
    currency: str
    meter_id: int
    addon_id: int
    period_from: date
    period_to: date
    value: Decimal
    included: Decimal
    overage: Decimal
    price_minor: Decimal
    due_minor: int
    amount_minor: int
    name: str
    unit: str

    @property
    def key(self) -> str:
        return overage_key(self.service_id, self.addon_id, self.period_from, self.due_minor)

    @property
    def description(self) -> str:
        """What the expense says (stored as written, like the other expense descriptions)."""
        unit = f" {self.unit}" if self.unit else ""
        return (
            f"{self.name}: {_plain(self.value)}{unit} used, {_plain(self.included)}{unit}"
            f" included, {_plain(self.overage)}{unit} over"
        )


def overage_key(service_id: int, addon_id: int, period_from: date, due_minor: int) -> str:
    return f"usage:{service_id}:{addon_id}:{period_from.isoformat()}:{due_minor}"


def overage_of(value: Decimal, included: Decimal) -> Decimal:
    """The units above the included amount (never negative)."""
    return max(value - included, ZERO)


def amount_due_minor(value: Decimal, terms: MeterTerms) -> int:
    """What a period's usage costs: the overage at the overage price, rounded once."""
    return round_minor(overage_of(value, terms.included) * terms.price_minor)


def period_of(day: date, *, per_day: bool) -> tuple[date, date]:
    """The rating period ``[from, to)`` holding ``day``."""
    if per_day:
        return day, day + timedelta(days=1)
    start = day.replace(day=1)
    return start, first_of_next_month(start)


def closed_periods(day: date, *, per_day: bool, lookback_days: int) -> list[tuple[date, date]]:
    """The rating periods that ended on or before ``day`` and after ``day - lookback_days``,
    oldest first: what a run on ``day`` rates (a period closes at the start of its last day's
    next day; the lookback covers late records and missed runs)."""
    oldest_end = day - timedelta(days=max(lookback_days, 1) - 1)
    out: list[tuple[date, date]] = []
    start, end = period_of(oldest_end - timedelta(days=1), per_day=per_day)
    while end <= day:
        if end >= oldest_end:
            out.append((start, end))
        start, end = period_of(end, per_day=per_day)
    return out


def plan_overage(
    usages: Iterable[PeriodUsage],
    terms: Mapping[int, MeterTerms],
    charged: Mapping[tuple[int, int, date], int],
) -> list[OverageCharge]:
    """The charges to write: per (service, meter, period), what its overage costs minus what
    was charged for it before (``charged``, keyed by (service, meter, period start)). A
    service billed in another currency than the addon's price is not rated (the catalog
    prices statistics addons in one currency)."""
    out = []
    for u in usages:
        t = terms.get(u.meter_id)
        if t is None or u.currency != t.currency:
            continue
        due = amount_due_minor(u.value, t)
        amount = due - charged.get((u.service_id, u.meter_id, u.period_from), 0)
        if amount <= 0:
            continue
        out.append(
            OverageCharge(
                service_id=u.service_id,
                client_id=u.client_id,
                provider_id=u.provider_id,
                currency=u.currency,
                meter_id=u.meter_id,
                addon_id=t.addon_id,
                period_from=u.period_from,
                period_to=u.period_to,
                value=u.value,
                included=t.included,
                overage=overage_of(u.value, t.included),
                price_minor=t.price_minor,
                due_minor=due,
                amount_minor=amount,
                name=t.name,
                unit=t.unit,
            )
        )
    return sorted(out, key=lambda c: (c.client_id, c.service_id, c.meter_id, c.period_from))


def _plain(value: Decimal) -> str:
    """A usage amount without trailing zeros or an exponent (``1500.000000`` -> ``1500``)."""
    return format(value.normalize(), "f")
