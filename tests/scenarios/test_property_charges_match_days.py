"""Property: for any sequence of orders, renewals, top-ups and tariff changes over a year, the
money charged for a service equals (never exceeds, beyond rounding of each prorated line) what
its paid days were priced at, and the ledger reconciles."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billow.billing.actions import change_tariff
from billow.billing.models import Expense
from billow.core.errors import BillowError
from billow.ledger.selectors import get_reconcile_report
from billow.services.states import ServiceStatus
from tests.billing.world import World, at

START = date(2024, 1, 31)
PRICES = {"A": 3000, "B": 7300}

steps = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=365),
        st.sampled_from(["bill", "bill", "switch", "topup"]),
        st.integers(min_value=0, max_value=9000),
    ),
    min_size=1,
    max_size=12,
)


@pytest.mark.django_db
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=steps, start_balance=st.integers(min_value=3000, max_value=20_000))
def test_charges_equal_the_priced_days(
    steps: list[tuple[int, str, int]], start_balance: int
) -> None:
    world = World(downgrade_policy="now_prorated")
    tariffs = {name: world.tariff(name, {"1m": price}) for name, price in PRICES.items()}
    client = world.client(balance=start_balance)
    service = world.service(client, tariffs["A"], START)
    history = [(START, PRICES["A"])]  # (from date, monthly price in force)
    current = "A"
    for offset, op, amount in sorted(steps):
        day = START + timedelta(days=offset)
        service.refresh_from_db()
        if op == "bill":
            world.bill(day)
        elif op == "topup" and amount:
            world.topup(client, amount)
        elif op == "switch" and service.status == ServiceStatus.ACTIVE and service.paid_until > day:
            target = "B" if current == "A" else "A"
            try:
                change_tariff(service=service, tariff=tariffs[target], now=at(day))
            except BillowError as exc:
                assert exc.code == "insufficient_funds"
            else:
                current = target
                history.append((day, PRICES[target]))
    assert_charges_match(service.pk, history)
    assert get_reconcile_report().ok


def price_on(day: date, history: list[tuple[date, int]]) -> int:
    return [price for start, price in history if start <= day][-1]


def assert_charges_match(service_id: int, history: list[tuple[date, int]]) -> None:
    expenses = list(Expense.objects.filter(service_id=service_id))
    bound = Fraction(0)
    for e in expenses:
        if e.reason == "period":
            length = (e.period_to - e.period_from).days
            for n in range(length):
                bound += Fraction(price_on(e.period_from + timedelta(days=n), history), length)
    net = sum(e.amount_minor if e.kind == "charge" else -e.amount_minor for e in expenses)
    prorated_lines = sum(1 for e in expenses if e.reason != "period")
    assert abs(net - bound) <= Fraction(prorated_lines, 2), (net, bound, prorated_lines)
    assert net <= bound + Fraction(prorated_lines, 2)
