"""Currency conversion: direct, inverse, dated history, group overrides, rounding, missing rate."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billow.accounts.models import ClientGroup
from billow.catalog import actions
from billow.catalog.rates import RateQuote, apply_rate, convert, find_rate
from billow.core.errors import BillowError
from billow.core.money import Money

pytestmark = pytest.mark.django_db

D = date


@pytest.fixture
def rates(currencies: None, group: ClientGroup) -> ClientGroup:
    """EUR->USD general history 1.10 (Jan) and 1.20 (Mar); Resellers get 1.05 from Feb."""
    actions.set_exchange_rate(base="EUR", quote="USD", valid_from=D(2026, 1, 1), rate="1.10")
    actions.set_exchange_rate(base="EUR", quote="USD", valid_from=D(2026, 3, 1), rate="1.20")
    actions.set_exchange_rate(
        base="EUR", quote="USD", valid_from=D(2026, 2, 1), rate="1.05", client_group_id=group.pk
    )
    return group


def test_direct_rate_uses_latest_on_or_before_date(rates: ClientGroup) -> None:
    # 100.00 EUR on 15 Jan -> 1.10; on 1 Mar (the day it starts) -> 1.20
    assert convert(Money(10000, "EUR"), "USD", on=D(2026, 1, 15)) == Money(11000, "USD")
    assert convert(Money(10000, "EUR"), "USD", on=D(2026, 3, 1)) == Money(12000, "USD")
    assert convert(Money(10000, "EUR"), "USD", on=D(2026, 2, 28)) == Money(11000, "USD")


def test_inverse_rate_divides_and_rounds_once_half_up(rates: ClientGroup) -> None:
    # 100.00 USD / 1.10 = 90.909090... EUR -> 90.91; 1.00 USD / 1.20 = 0.8333 -> 0.83
    assert convert(Money(10000, "USD"), "EUR", on=D(2026, 1, 31)) == Money(9091, "EUR")
    assert convert(Money(100, "USD"), "EUR", on=D(2026, 3, 2)) == Money(83, "EUR")
    # 0.05 USD / 1.10 = 4.545... cents -> 5 cents
    assert convert(Money(5, "USD"), "EUR", on=D(2026, 1, 31)) == Money(5, "EUR")


def test_group_override_beats_general_rate(rates: ClientGroup) -> None:
    # a member of Resellers on 10 Mar gets the group's 1.05, although the general 1.20 is newer
    assert convert(Money(10000, "EUR"), "USD", on=D(2026, 3, 10), group_ids=[rates.pk]) == Money(
        10500, "USD"
    )
    # before the override starts, the general rate applies
    assert convert(Money(10000, "EUR"), "USD", on=D(2026, 1, 20), group_ids=[rates.pk]) == Money(
        11000, "USD"
    )
    # non-members get the general rate
    other = ClientGroup.objects.create(name="Other")
    assert convert(Money(10000, "EUR"), "USD", on=D(2026, 3, 10), group_ids=[other.pk]) == Money(
        12000, "USD"
    )


def test_group_override_applies_to_inverse_direction(rates: ClientGroup) -> None:
    # 105.00 USD / 1.05 = 100.00 EUR
    quote = find_rate("USD", "EUR", on=D(2026, 2, 2), group_ids=[rates.pk])
    assert (quote.rate, quote.inverse, quote.client_group_id) == (Decimal("1.05"), True, rates.pk)
    assert apply_rate(Money(10500, "USD"), quote) == Money(10000, "EUR")


def test_direct_beats_inverse_on_same_date(currencies: None) -> None:
    actions.set_exchange_rate(base="USD", quote="EUR", valid_from=D(2026, 1, 1), rate="0.5")
    actions.set_exchange_rate(base="EUR", quote="USD", valid_from=D(2026, 1, 1), rate="4")
    assert convert(Money(1000, "USD"), "EUR", on=D(2026, 1, 1)) == Money(500, "EUR")
    assert convert(Money(1000, "EUR"), "USD", on=D(2026, 1, 1)) == Money(4000, "USD")


def test_exponents_differ(currencies: None) -> None:
    # 1 USD = 150.5 JPY: 10.01 USD -> 1506.505 JPY -> 1507 (JPY has no minor unit)
    actions.set_exchange_rate(base="USD", quote="JPY", valid_from=D(2026, 1, 1), rate="150.5")
    assert convert(Money(1001, "USD"), "JPY", on=D(2026, 1, 1)) == Money(1507, "JPY")
    # and back: 1507 JPY / 150.5 = 10.01328... USD -> 10.01
    assert convert(Money(1507, "JPY"), "USD", on=D(2026, 1, 1)) == Money(1001, "USD")


def test_missing_rate_is_refused(rates: ClientGroup) -> None:
    with pytest.raises(BillowError) as exc:
        convert(Money(100, "EUR"), "USD", on=D(2025, 12, 31))  # before the first rate
    assert exc.value.code == "no_exchange_rate"
    with pytest.raises(BillowError) as exc:
        convert(Money(100, "EUR"), "JPY", on=D(2026, 6, 1))  # no pair at all
    assert exc.value.code == "no_exchange_rate"


def test_same_currency_is_identity_and_unknown_target_refused(rates: ClientGroup) -> None:
    assert convert(Money(123, "EUR"), "EUR", on=D(2020, 1, 1)) == Money(123, "EUR")
    with pytest.raises(BillowError) as exc:
        convert(Money(123, "EUR"), "ZZZ", on=D(2026, 1, 1))
    assert exc.value.code == "unknown_currency"


def test_setting_the_same_date_again_replaces_the_rate(rates: ClientGroup) -> None:
    actions.set_exchange_rate(base="EUR", quote="USD", valid_from=D(2026, 1, 1), rate="1.15")
    assert convert(Money(10000, "EUR"), "USD", on=D(2026, 1, 2)) == Money(11500, "USD")


def test_find_rate_is_one_query(rates: ClientGroup) -> None:
    with CaptureQueriesContext(connection) as ctx:
        find_rate("EUR", "USD", on=D(2026, 3, 3), group_ids=[rates.pk, 999])
    assert len(ctx.captured_queries) == 1


def test_apply_rate_refuses_wrong_source() -> None:
    quote = RateQuote("EUR", "USD", Decimal(2), False, D(2026, 1, 1), None)
    with pytest.raises(BillowError) as exc:
        apply_rate(Money(1, "USD"), quote)
    assert exc.value.code == "currency_mismatch"


def test_conversion_beyond_2_63_is_refused(currencies: None) -> None:
    actions.set_exchange_rate(base="USD", quote="JPY", valid_from=D(2026, 1, 1), rate="1000")
    with pytest.raises(BillowError) as exc:
        convert(Money(2**62, "USD"), "JPY", on=D(2026, 1, 1))
    assert exc.value.code == "amount_out_of_range"
