"""The run's pure planning and proration (no database)."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from billow.billing.plan import DueService, RunRules, plan_chunk
from billow.billing.proration import opening_period, prorate, remaining_fraction
from billow.billing.wallet import Wallet

DAY = date(2025, 3, 3)  # a Monday


def due(sid: int, **kw: object) -> DueService:
    fields: dict[str, object] = {
        "id": sid,
        "client_id": 1,
        "provider_id": 1,
        "currency": "USD",
        "status": "active",
        "paid_until": DAY,
        "renew_period": "1m",
        "billing_mode": "anniversary",
        "anchor_day": 3,
        "price_minor": 1000,
    }
    fields.update(kw)
    return DueService(**fields)  # type: ignore[arg-type]


def test_running_balance_pays_services_in_id_order() -> None:
    wallets = {(1, 1, "USD"): Wallet(1, 2500)}
    plan = plan_chunk(RunRules(DAY), [due(3), due(1), due(2)], wallets)
    assert [c.service_id for c in plan.charges] == [1, 2]
    assert [(c.service_id, c.to_status) for c in plan.changes] == [(3, "suspended_nonpayment")]
    assert wallets[(1, 1, "USD")].balance_minor == 500


def test_credit_limit_and_postpaid() -> None:
    limited = {(1, 1, "USD"): Wallet(1, 0, credit_limit_minor=1500)}
    assert len(plan_chunk(RunRules(DAY), [due(1), due(2)], limited).charges) == 1
    postpaid = {(1, 1, "USD"): Wallet(1, 0, postpaid=True)}
    plan = plan_chunk(RunRules(DAY), [due(1), due(2)], postpaid)
    assert len(plan.charges) == 2 and plan.changes == []
    assert postpaid[(1, 1, "USD")].balance_minor == -2000


def test_already_charged_periods_are_not_charged_again() -> None:
    wallets = {(1, 1, "USD"): Wallet(1, 5000)}
    plan = plan_chunk(RunRules(DAY), [due(1)], wallets, already_charged=frozenset({(1, DAY)}))
    assert plan.charges == [] and plan.paid_until == {1: date(2025, 4, 3)}


def test_unpriceable_service_fails_alone() -> None:
    wallets = {(1, 1, "USD"): Wallet(1, 5000)}
    services = [due(1, price_minor=None, price_error="period_not_offered"), due(2)]
    plan = plan_chunk(RunRules(DAY), services, wallets)
    assert plan.failed == [(1, "period_not_offered")]
    assert [c.service_id for c in plan.charges] == [2]


def test_weekend_defers_and_auto_delete_counts_days() -> None:
    saturday = date(2025, 3, 1)
    s = due(1, paid_until=saturday, no_suspend_weekends=True)
    plan = plan_chunk(RunRules(saturday), [s], {})
    assert plan.deferred == [1] and plan.changes == []
    old = due(
        2,
        status="suspended_nonpayment",
        paid_until=date(2025, 2, 1),
        suspended_on=date(2025, 2, 17),
        auto_delete_days=14,
    )
    assert plan_chunk(RunRules(DAY), [old], {}).changes[0].to_status == "deleted"
    young = due(
        3,
        status="suspended_nonpayment",
        paid_until=date(2025, 2, 1),
        suspended_on=date(2025, 2, 18),
        auto_delete_days=14,
    )
    assert plan_chunk(RunRules(DAY), [young], {}).unpaid == [3]


def test_proration_helpers() -> None:
    assert prorate(1000, Fraction(1, 3)) == 333
    assert prorate(1000, Fraction(2, 3)) == 667
    assert prorate(1, Fraction(1, 2)) == 1  # half up
    assert opening_period(date(2025, 4, 10), "1m", "calendar", 20) == (
        date(2025, 4, 10),
        date(2025, 5, 1),
        Fraction(21, 30),
    )
    assert opening_period(date(2025, 1, 31), "1m", "anniversary", 1)[1] == date(2025, 2, 28)
    assert remaining_fraction(date(2025, 4, 16), date(2025, 4, 1), date(2025, 5, 1)) == Fraction(
        1, 2
    )
    assert remaining_fraction(date(2025, 5, 2), date(2025, 4, 1), date(2025, 5, 1)) == 0
