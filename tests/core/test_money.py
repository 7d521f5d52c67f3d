"""Money and allocate: examples plus hypothesis properties."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from billow.core.errors import ValidationError
from billow.core.money import CURRENCY_EXPONENTS, MAX_MINOR, Money, allocate, round_minor

amounts = st.integers(min_value=-MAX_MINOR, max_value=MAX_MINOR)
currencies = st.sampled_from(sorted(CURRENCY_EXPONENTS))
int_ratios = st.integers(min_value=0, max_value=10**9)
dec_ratios = st.decimals(
    min_value=0, max_value=10**6, places=6, allow_nan=False, allow_infinity=False
)
ratio_lists = st.lists(st.one_of(int_ratios, dec_ratios), min_size=1, max_size=30)


# -- allocate ---------------------------------------------------------------------------------


@given(amounts, ratio_lists)
def test_allocate_never_loses_or_creates_a_minor_unit(amount, ratios):
    assume(sum(Decimal(r) for r in ratios) > 0)
    parts = allocate(amount, ratios)
    assert len(parts) == len(ratios)
    assert sum(parts) == amount
    total = sum(Fraction(r) for r in ratios)
    for part, ratio in zip(parts, ratios, strict=True):
        exact = Fraction(amount) * Fraction(ratio) / total
        assert abs(part - exact) < 1


def test_allocate_examples():
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(-100, [1, 1, 1]) == [-34, -33, -33]
    assert allocate(5, [Decimal("0.5"), Decimal("0.25"), Decimal("0.25")]) == [3, 1, 1]
    assert allocate(MAX_MINOR, [1, 0]) == [MAX_MINOR, 0]
    assert allocate(0, [3, 7]) == [0, 0]


@pytest.mark.parametrize("ratios", [[], [0, 0], [1, -1], [Decimal("NaN")]])
def test_allocate_refuses_bad_ratios(ratios):
    with pytest.raises(ValidationError) as exc:
        allocate(100, ratios)
    assert exc.value.code == "invalid_ratios"


def test_money_allocate_keeps_the_currency():
    assert Money(1000, "USD").allocate([1, 2]) == [Money(333, "USD"), Money(667, "USD")]


# -- Money ------------------------------------------------------------------------------------


@given(amounts, currencies)
def test_decimal_round_trip(amount, currency):
    money = Money(amount, currency)
    assert Money.from_decimal(money.to_decimal(), currency) == money
    assert Money.from_decimal(str(money.to_decimal()), currency) == money


def test_from_decimal_rounds_half_up_once():
    assert Money.from_decimal(Decimal("12.345"), "USD") == Money(1235, "USD")
    assert Money.from_decimal(Decimal("-12.345"), "USD") == Money(-1235, "USD")
    assert Money.from_decimal("1.2345", "KWD") == Money(1235, "KWD")
    assert Money.from_decimal("99.5", "JPY") == Money(100, "JPY")
    assert round_minor(Decimal("2.5")) == 3


def test_str_uses_the_exponent():
    assert str(Money(1234, "USD")) == "12.34 USD"
    assert str(Money(1234, "JPY")) == "1234 JPY"
    assert str(Money(-5, "BHD")) == "-0.005 BHD"


@given(amounts, amounts, currencies)
def test_addition_is_exact_or_refused(a, b, currency):
    if abs(a + b) <= MAX_MINOR:
        assert (Money(a, currency) + Money(b, currency)).amount_minor == a + b
    else:
        with pytest.raises(ValidationError) as exc:
            Money(a, currency) + Money(b, currency)
        assert exc.value.code == "amount_out_of_range"


@pytest.mark.parametrize(
    "op",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a >= b,
    ],
)
def test_currency_mismatch(op):
    with pytest.raises(ValidationError) as exc:
        op(Money(100, "USD"), Money(100, "EUR"))
    assert exc.value.code == "currency_mismatch"


@pytest.mark.parametrize("currency", ["XXX", "usd", "", None, "US"])
def test_unknown_currency(currency):
    with pytest.raises(ValidationError) as exc:
        Money(1, currency)
    assert exc.value.code == "unknown_currency"
    with pytest.raises(ValidationError) as exc:
        Money.from_decimal("1", currency)
    assert exc.value.code == "unknown_currency"


@pytest.mark.parametrize("amount", [2**63, -(2**63), 2**64, -(2**70)])
def test_amount_out_of_range(amount):
    with pytest.raises(ValidationError) as exc:
        Money(amount, "USD")
    assert exc.value.code == "amount_out_of_range"
    with pytest.raises(ValidationError) as exc:
        allocate(amount, [1])
    assert exc.value.code == "amount_out_of_range"


def test_the_largest_amounts_are_accepted():
    assert Money(MAX_MINOR, "USD").amount_minor == 2**63 - 1
    assert Money(-MAX_MINOR, "USD").amount_minor == -(2**63 - 1)


def test_from_decimal_beyond_range_is_refused():
    with pytest.raises(ValidationError) as exc:
        Money.from_decimal(Decimal(2**63) / 100, "USD")
    assert exc.value.code == "amount_out_of_range"


def test_float_is_refused_everywhere():
    with pytest.raises(ValidationError) as exc:
        Money.from_decimal(1.5, "USD")  # type: ignore[arg-type]
    assert exc.value.code == "invalid_amount"
    with pytest.raises(ValidationError) as exc:
        Money(1.0, "USD")  # type: ignore[arg-type]
    assert exc.value.code == "invalid_amount"
    with pytest.raises(ValidationError) as exc:
        Money(100, "USD") * 1.5
    assert exc.value.code == "invalid_amount"


@pytest.mark.parametrize("value", ["abc", "NaN", "Infinity"])
def test_not_a_number_is_refused(value):
    with pytest.raises(ValidationError) as exc:
        Money.from_decimal(value, "USD")
    assert exc.value.code == "invalid_amount"


def test_multiply_by_decimal_rounds_once():
    assert Money(1000, "USD") * Decimal("0.3333") == Money(333, "USD")
    assert 3 * Money(5, "USD") == Money(15, "USD")
