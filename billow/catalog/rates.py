"""Currency conversion: the one place an amount changes currency.

Rate choice (``find_rate``), for a pair of currencies and a date ``on``:

1. only rates dated on or before ``on`` count; each dated rate holds until the next one;
2. if any of ``group_ids`` has an override for the pair, the latest such override wins over
   every general rate, however recent (a group rate is the group's own history);
3. otherwise the latest general rate (``client_group`` empty) is used;
4. a stored ``A -> B`` rate also converts ``B -> A`` as ``1 / rate``; on the same date a direct
   rate beats an inverse one, and a lower group id beats a higher one.

The converted amount is computed exactly (60 significant digits) and rounded once, half up, by
``billow.core.money.round_minor``. A missing rate raises ``no_exchange_rate``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext

from django.db.models import Case, IntegerField, Q, Value, When

from billow.core.money import Money, exponent, round_minor

from .errors import ExchangeRateMissingError
from .models import ExchangeRate

_PRECISION = 60


@dataclass(frozen=True, slots=True)
class RateQuote:
    """The rate chosen for ``source -> target``: multiply major units by ``rate`` (or divide
    when ``inverse``)."""

    source: str
    target: str
    rate: Decimal
    inverse: bool
    valid_from: date
    client_group_id: int | None


def find_rate(source: str, target: str, *, on: date, group_ids: Iterable[int] = ()) -> RateQuote:
    """The rate that applies to ``source -> target`` on ``on`` (one query)."""
    exponent(source)
    exponent(target)
    groups = list(group_ids)
    row = (
        ExchangeRate.objects.filter(
            Q(base_id=source, quote_id=target) | Q(base_id=target, quote_id=source),
            Q(client_group__isnull=True) | Q(client_group_id__in=groups),
            valid_from__lte=on,
        )
        .annotate(
            is_general=Case(
                When(client_group__isnull=True, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            ),
            is_inverse=Case(
                When(base_id=target, then=Value(1)), default=Value(0), output_field=IntegerField()
            ),
        )
        .order_by("is_general", "-valid_from", "is_inverse", "client_group_id")
        .first()
    )
    if row is None:
        raise ExchangeRateMissingError(
            f"No exchange rate {source}->{target} on {on}", source=source, target=target, on=str(on)
        )
    return RateQuote(
        source=source,
        target=target,
        rate=row.rate,
        inverse=row.base_id != source,
        valid_from=row.valid_from,
        client_group_id=row.client_group_id,
    )


def apply_rate(money: Money, quote: RateQuote) -> Money:
    """Convert with an already chosen rate (pure). Rounds once, half up."""
    if money.currency != quote.source:
        raise ExchangeRateMissingError(
            f"Rate is for {quote.source}, not {money.currency}", code="currency_mismatch"
        )
    shift = exponent(quote.target) - exponent(quote.source)
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        scaled = Decimal(money.amount_minor).scaleb(shift)
        exact = scaled / quote.rate if quote.inverse else scaled * quote.rate
        return Money(round_minor(exact), quote.target)


def convert(money: Money, to_currency: str, *, on: date, group_ids: Iterable[int] = ()) -> Money:
    """``money`` in ``to_currency`` at the rate valid ``on`` for a client in ``group_ids``."""
    exponent(to_currency)
    if money.currency == to_currency:
        return money
    return apply_rate(money, find_rate(money.currency, to_currency, on=on, group_ids=group_ids))
