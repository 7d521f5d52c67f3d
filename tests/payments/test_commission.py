from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billow.payments.commission import commission_minor
from billow.payments.errors import PaymentError

percents = st.decimals(min_value=0, max_value=100, places=4, allow_nan=False)


@pytest.mark.parametrize(
    ("amount", "fixed", "percent", "expected"),
    [
        (10000, 30, Decimal("2.9"), 320),  # 30 + 290
        (1, 0, Decimal("2.9"), 0),  # 0.029 -> 0
        (18, 0, Decimal("2.5"), 0),  # 0.45 -> 0
        (20, 0, Decimal("2.5"), 1),  # 0.5 -> 1 (half up)
        (999, 0, Decimal("0.0001"), 0),
        (12345, 0, Decimal("100"), 12345),
        (0, 50, Decimal("3"), 50),
    ],
)
def test_commission_examples(amount: int, fixed: int, percent: Decimal, expected: int) -> None:
    # given an amount, a fixed and a percent commission / when computed / then exact, half up
    assert commission_minor(amount, fixed_minor=fixed, percent=percent) == expected


@given(
    st.integers(min_value=0, max_value=10**15), st.integers(min_value=0, max_value=10**9), percents
)
def test_commission_is_exact_and_never_negative(amount: int, fixed: int, percent: Decimal) -> None:
    fee = commission_minor(amount, fixed_minor=fixed, percent=percent)
    exact = Fraction(fixed) + Fraction(amount) * Fraction(percent) / 100
    assert fee >= 0
    assert isinstance(fee, int)
    # one rounding, half up: within half a minor unit, ties up
    assert exact - Fraction(1, 2) < fee <= exact + Fraction(1, 2)


@given(st.integers(min_value=0, max_value=10**12), percents, percents)
def test_commission_is_monotonic_in_percent(amount: int, p1: Decimal, p2: Decimal) -> None:
    low, high = sorted((p1, p2))
    assert commission_minor(amount, fixed_minor=0, percent=low) <= commission_minor(
        amount, fixed_minor=0, percent=high
    )


@pytest.mark.parametrize(
    ("amount", "fixed", "percent"),
    [
        (-1, 0, Decimal(1)),
        (1, -1, Decimal(1)),
        (1, 0, Decimal(-1)),
        (1, 0, Decimal(101)),
        (1, 0, Decimal("NaN")),
    ],
)
def test_commission_refuses_bad_input(amount: int, fixed: int, percent: Decimal) -> None:
    with pytest.raises(PaymentError) as exc:
        commission_minor(amount, fixed_minor=fixed, percent=percent)
    assert exc.value.code == "invalid_commission"
