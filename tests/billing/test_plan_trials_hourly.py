"""The run's plan with trials (renewed into their paid period, a notice before the end) and
hourly services (every started hour up to the moment, not the hours suspended): pure, no DB."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from billow.billing.plan import DueService, RunRules, plan_chunk
from billow.billing.wallet import Wallet
from billow.core.periods import HOURS_PER_MONTH

KEY = (1, 1, "USD")
T = datetime(2025, 3, 10, 10, tzinfo=UTC)
HOUR = timedelta(hours=1)


def hourly(**kw: object) -> DueService:
    fields: dict[str, object] = {
        "id": 7,
        "client_id": 1,
        "provider_id": 1,
        "currency": "USD",
        "status": "active",
        "paid_until": T,
        "renew_period": "hour",
        "billing_mode": "anniversary",
        "anchor_day": 10,
        "price_minor": 2,
        "period": "hour",
    }
    fields.update(kw)
    return DueService(**fields)  # type: ignore[arg-type]


def trial(**kw: object) -> DueService:
    fields: dict[str, object] = {
        "id": 5,
        "client_id": 1,
        "provider_id": 1,
        "currency": "USD",
        "status": "active",
        "paid_until": date(2025, 3, 17),
        "renew_period": "1m",
        "billing_mode": "anniversary",
        "anchor_day": 17,
        "price_minor": 1000,
        "period": "trial",
    }
    fields.update(kw)
    return DueService(**fields)  # type: ignore[arg-type]


def test_every_started_hour_up_to_the_moment_is_charged_once() -> None:
    wallets = {KEY: Wallet(1, 100)}
    plan = plan_chunk(RunRules(T + 3 * HOUR + timedelta(minutes=30)), [hourly()], wallets)
    assert [(c.period_from, c.period_to, c.amount_minor) for c in plan.charges] == [
        (T + n * HOUR, T + (n + 1) * HOUR, 2) for n in range(4)
    ]
    assert [c.key for c in plan.charges][:2] == ["hour:7:2025-03-10T10", "hour:7:2025-03-10T11"]
    assert plan.paid_until == {7: T + 4 * HOUR}
    assert wallets[KEY].balance_minor == 92


def test_an_hourly_service_the_wallet_cannot_pay_is_suspended_at_the_unpaid_hour() -> None:
    plan = plan_chunk(RunRules(T + 2 * HOUR), [hourly()], {KEY: Wallet(1, 5)})
    assert len(plan.charges) == 2 and plan.paid_until == {7: T + 2 * HOUR}
    assert [(c.service_id, c.to_status, c.reason) for c in plan.changes] == [
        (7, "suspended_nonpayment", "non_payment")
    ]


def test_a_suspended_hourly_service_pays_from_the_current_hour_only() -> None:
    s = hourly(status="suspended_nonpayment", suspended_on=T)
    plan = plan_chunk(RunRules(T + 5 * HOUR + timedelta(minutes=10)), [s], {KEY: Wallet(1, 100)})
    assert [c.period_from for c in plan.charges] == [T + 5 * HOUR]
    assert plan.paid_until == {7: T + 6 * HOUR}
    assert [c.to_status for c in plan.changes] == ["active"]


def test_a_suspended_hourly_service_that_still_cannot_pay_keeps_its_paid_until() -> None:
    s = hourly(status="suspended_nonpayment", suspended_on=T)
    plan = plan_chunk(RunRules(T + 5 * HOUR), [s], {KEY: Wallet(1, 0)})
    assert plan.charges == [] and plan.paid_until == {} and plan.unpaid == [7]


def test_low_balance_for_hourly_services_counts_the_notice_window_in_hours() -> None:
    # 0.02 an hour for 3 days is 1.44; one notice a day, also from hourly runs
    wallets = {KEY: Wallet(1, 143)}
    plan = plan_chunk(RunRules(T + timedelta(minutes=5), notice_days=3), [hourly()], wallets)
    (notice,) = [n for n in plan.notices if n.event == "low_balance"]
    assert notice.context["needed_minor"] == 2 * 24 * 3
    assert notice.dedup_key == "low_balance:1:1:USD:2025-03-10"
    assert HOURS_PER_MONTH == 730


def test_a_trial_gets_one_notice_in_the_window_and_no_renewal_notice() -> None:
    wallets = {KEY: Wallet(1, 5000)}
    plan = plan_chunk(RunRules(date(2025, 3, 14), notice_days=3), [trial()], wallets)
    assert [(n.event, n.dedup_key) for n in plan.notices] == [
        ("trial_ending", "trial_ending:5:2025-03-17")
    ]
    assert plan.notices[0].context == {
        "service_id": 5,
        "ends_on": "2025-03-17",
        "converts_to": "1m",
        "currency": "USD",
        "amount_minor": 1000,
    }
    off = plan_chunk(RunRules(date(2025, 3, 16)), [trial(renew_period=None)], wallets)
    assert (
        off.notices[0].context["converts_to"] == "" and "amount_minor" not in off.notices[0].context
    )


def test_a_trial_renews_into_its_paid_period_at_its_end() -> None:
    wallets = {KEY: Wallet(1, 1500)}
    plan = plan_chunk(RunRules(date(2025, 3, 17)), [trial()], wallets)
    assert [(c.period_from, c.period_to, c.amount_minor) for c in plan.charges] == [
        (date(2025, 3, 17), date(2025, 4, 17), 1000)
    ]
    assert plan.changes == []
