"""Commission math (pure). The payer pays ``amount + commission``; the balance gets ``amount``."""

from __future__ import annotations

from decimal import Decimal

from billow.core.money import check_amount, round_minor
from billow.payments.errors import PaymentError


def commission_minor(amount_minor: int, *, fixed_minor: int, percent: Decimal) -> int:
    """``fixed + amount * percent / 100``, rounded half up once (``core.money.round_minor``).

    Exact: the only rounding is the final one, so the result differs from the exact rational
    commission by at most half a minor unit; never negative for non-negative inputs, which are
    the only ones accepted (``invalid_commission``).
    """
    check_amount(amount_minor)
    check_amount(fixed_minor, field="fixed commission")
    if amount_minor < 0 or fixed_minor < 0:
        raise PaymentError("amounts must not be negative", code="invalid_commission")
    rate = Decimal(percent)
    if not rate.is_finite() or rate < 0 or rate > 100:
        raise PaymentError("commission % must be within 0..100", code="invalid_commission")
    return fixed_minor + round_minor(Decimal(amount_minor) * rate / Decimal(100))
