"""Money: integer minor units plus an ISO 4217 currency code. Never float.

The exponent table and the single rounding function live here and nowhere else. ``allocate``
splits an amount by ratios without losing or creating a minor unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from billow.core.errors import ValidationError

#: Minor-unit exponents (ISO 4217). Currencies not listed here are refused.
CURRENCY_EXPONENTS: dict[str, int] = {
    "AED": 2,
    "AMD": 2,
    "ARS": 2,
    "AUD": 2,
    "AZN": 2,
    "BGN": 2,
    "BHD": 3,
    "BRL": 2,
    "BYN": 2,
    "CAD": 2,
    "CHF": 2,
    "CLP": 0,
    "CNY": 2,
    "COP": 2,
    "CZK": 2,
    "DKK": 2,
    "EGP": 2,
    "EUR": 2,
    "GBP": 2,
    "GEL": 2,
    "HKD": 2,
    "HUF": 2,
    "IDR": 2,
    "ILS": 2,
    "INR": 2,
    "ISK": 0,
    "JOD": 3,
    "JPY": 0,
    "KGS": 2,
    "KRW": 0,
    "KWD": 3,
    "KZT": 2,
    "MDL": 2,
    "MXN": 2,
    "MYR": 2,
    "NOK": 2,
    "NZD": 2,
    "OMR": 3,
    "PHP": 2,
    "PLN": 2,
    "RON": 2,
    "RSD": 2,
    "RUB": 2,
    "SAR": 2,
    "SEK": 2,
    "SGD": 2,
    "THB": 2,
    "TJS": 2,
    "TND": 3,
    "TRY": 2,
    "UAH": 2,
    "USD": 2,
    "UZS": 2,
    "VND": 0,
    "ZAR": 2,
}

#: Amounts are stored in signed 64-bit columns; anything at or beyond 2**63 is refused.
MAX_MINOR = 2**63 - 1
ROUNDING = ROUND_HALF_UP

#: No ledger balance (client, revenue, clearing or any house account) may leave
#: ``±balance_limit_minor(currency)``: ten trillion major units of the currency, far below 2**63,
#: so a posting can be checked without overflow and the sums ``billow reconcile`` takes stay exact.
BALANCE_LIMIT_MAJOR = 10**13
#: A payment method without its own maximum takes at most this many major units per payment.
DEFAULT_PAYMENT_MAXIMUM_MAJOR = 10**8


def exponent(currency: str) -> int:
    """The number of minor-unit digits of ``currency``; raises ``unknown_currency``."""
    try:
        return CURRENCY_EXPONENTS[currency]
    except (KeyError, TypeError):
        raise ValidationError(
            f"Unknown currency {currency!r}", code="unknown_currency", currency=str(currency)
        ) from None


def balance_limit_minor(currency: str) -> int:
    """The largest absolute balance a ledger account in ``currency`` may hold (minor units)."""
    return BALANCE_LIMIT_MAJOR * 10 ** exponent(currency)


def default_payment_maximum_minor(currency: str) -> int:
    """The per-payment maximum of a payment method that sets none (minor units)."""
    return DEFAULT_PAYMENT_MAXIMUM_MAJOR * 10 ** exponent(currency)


def check_amount(amount_minor: int, *, field: str = "amount") -> int:
    """Refuse non-integers and amounts outside the signed 64-bit range."""
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
        raise ValidationError(
            f"{field} must be an integer number of minor units", code="invalid_amount", field=field
        )
    if not -MAX_MINOR <= amount_minor <= MAX_MINOR:
        raise ValidationError(
            f"{field} is out of range (|amount| must be below 2^63)",
            code="amount_out_of_range",
            field=field,
        )
    return amount_minor


def round_minor(value: Decimal | int) -> int:
    """The one rounding function: a Decimal number of minor units to an int, half up."""
    if isinstance(value, int):
        return value
    return int(Decimal(value).quantize(Decimal(1), rounding=ROUNDING))


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount: ``amount_minor`` minor units of ``currency``."""

    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        exponent(self.currency)
        check_amount(self.amount_minor)

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def from_decimal(cls, value: Decimal | str | int, currency: str) -> Money:
        """Major units (``Decimal("12.345")``) to Money, rounded half up once."""
        if isinstance(value, float):
            raise ValidationError("float amounts are not accepted", code="invalid_amount")
        try:
            dec = Decimal(value)
        except Exception as exc:  # decimal.InvalidOperation and friends
            raise ValidationError(f"Not a number: {value!r}", code="invalid_amount") from exc
        if not dec.is_finite():
            raise ValidationError(f"Not a finite number: {value!r}", code="invalid_amount")
        return cls(round_minor(dec.scaleb(exponent(currency))), currency)

    # -- conversion ---------------------------------------------------------------------------
    def to_decimal(self) -> Decimal:
        return Decimal(self.amount_minor).scaleb(-exponent(self.currency))

    def __str__(self) -> str:
        exp = exponent(self.currency)
        return f"{self.to_decimal():.{exp}f} {self.currency}"

    # -- arithmetic ---------------------------------------------------------------------------
    def _same(self, other: Any) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        if other.currency != self.currency:
            raise ValidationError(
                f"Cannot combine {self.currency} with {other.currency}",
                code="currency_mismatch",
                currencies=[self.currency, other.currency],
            )
        return other

    def __add__(self, other: Money) -> Money:
        o = self._same(other)
        return Money(self.amount_minor + o.amount_minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        o = self._same(other)
        return Money(self.amount_minor - o.amount_minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount_minor, self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        """Multiply by an int or Decimal factor, rounding once, half up."""
        if isinstance(factor, (float, bool)):
            raise ValidationError("float factors are not accepted", code="invalid_amount")
        if isinstance(factor, int):
            return Money(self.amount_minor * factor, self.currency)
        return Money(round_minor(Decimal(self.amount_minor) * factor), self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        return self.amount_minor < self._same(other).amount_minor

    def __le__(self, other: Money) -> bool:
        return self.amount_minor <= self._same(other).amount_minor

    def __gt__(self, other: Money) -> bool:
        return self.amount_minor > self._same(other).amount_minor

    def __ge__(self, other: Money) -> bool:
        return self.amount_minor >= self._same(other).amount_minor

    def is_zero(self) -> bool:
        return self.amount_minor == 0

    def allocate(self, ratios: Sequence[int | Decimal]) -> list[Money]:
        """Split by ``ratios``; the parts always add up to exactly ``self``."""
        return [Money(p, self.currency) for p in allocate(self.amount_minor, ratios)]


def allocate(amount_minor: int, ratios: Sequence[int | Decimal]) -> list[int]:
    """Split ``amount_minor`` by non-negative ``ratios`` (largest-remainder method).

    The parts sum to ``amount_minor`` exactly; each part differs from its exact share by less
    than one minor unit; ties go to the earlier ratio. A negative amount is split as its
    magnitude, then negated.
    """
    check_amount(amount_minor)
    if not ratios:
        raise ValidationError("allocate needs at least one ratio", code="invalid_ratios")
    dec_ratios = [Decimal(r) for r in ratios]
    if any(not r.is_finite() or r < 0 for r in dec_ratios):
        raise ValidationError("ratios must be finite and non-negative", code="invalid_ratios")
    total = sum(dec_ratios, Decimal(0))
    if total == 0:
        raise ValidationError("ratios must not all be zero", code="invalid_ratios")
    sign = -1 if amount_minor < 0 else 1
    magnitude = abs(amount_minor)
    # Exact integer arithmetic: scale ratios to integers by their largest decimal exponent.
    scale = 0
    for r in dec_ratios:
        exp = r.as_tuple().exponent
        if isinstance(exp, int) and -exp > scale:
            scale = -exp
    int_ratios = [int(r.scaleb(scale)) for r in dec_ratios]
    int_total = sum(int_ratios)
    parts = [magnitude * r // int_total for r in int_ratios]
    remainders = [magnitude * r % int_total for r in int_ratios]
    leftover = magnitude - sum(parts)
    order = sorted(range(len(parts)), key=lambda i: (-remainders[i], i))
    for i in order[:leftover]:
        parts[i] += 1
    return [sign * p for p in parts]
