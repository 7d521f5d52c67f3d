"""Scenario: a referral program over four months (January to April 2025), rewards exact to the
cent, the payout on the 1st."""

from __future__ import annotations

from datetime import date

import pytest

from billow.ledger.selectors import get_reconcile_report
from tests.marketing.referrals.world import ReferralWorld

pytestmark = pytest.mark.django_db

D = date


def test_percent_reward_by_link_paid_on_the_first_of_each_month() -> None:
    # given a program paying 10 % of every charge, a partner and a client it brought on 5 Jan
    world = ReferralWorld()
    program = world.program()
    world.rule(program)
    partner = world.partner(program)
    vps = world.tariff("VPS", {"1m": 3000})
    client = world.referral(partner, D(2025, 1, 5))
    # when the referral takes a 30.00 VPS on 10 Jan, renewed by the billing run every month
    service = world.service(client, vps, D(2025, 1, 10))
    for day in (D(2025, 2, 1), D(2025, 2, 10), D(2025, 3, 1), D(2025, 3, 10), D(2025, 4, 1)):
        if day.day == 10:
            world.bill(day)
        world.run(day)
    world.bill(D(2025, 4, 10))
    world.run(D(2025, 5, 1))
    # then every charge earned 3.00 on its day and each 1st paid the month before
    assert world.rewards(partner) == [
        (D(2025, 1, 10), 300),
        (D(2025, 2, 10), 300),
        (D(2025, 3, 10), 300),
        (D(2025, 4, 10), 300),
    ]
    assert world.payouts(partner) == [
        (D(2025, 2, 1), 300, "balance", "paid"),
        (D(2025, 3, 1), 300, "balance", "paid"),
        (D(2025, 4, 1), 300, "balance", "paid"),
        (D(2025, 5, 1), 300, "balance", "paid"),
    ]
    assert world.balance(partner.client) == 1200
    assert world.payable(partner) == 0
    assert service.pk
    assert get_reconcile_report().ok


def test_referral_period_bounds_the_rewards_and_a_rerun_of_the_first_pays_once() -> None:
    # given a 2-month referral period and 10 % of every charge
    world = ReferralWorld()
    program = world.program(referral_period_months=2)
    world.rule(program)
    partner = world.partner(program)
    vps = world.tariff("VPS", {"1m": 3000})
    client = world.referral(partner, D(2025, 1, 5))  # rewards until 5 March
    world.service(client, vps, D(2025, 1, 10))
    for day in (D(2025, 2, 10), D(2025, 3, 10), D(2025, 4, 10)):
        world.bill(day)
    # when the 1st runs for each month, February's twice
    world.run(D(2025, 2, 1))
    world.run(D(2025, 2, 1))
    for day in (D(2025, 3, 1), D(2025, 3, 1), D(2025, 4, 1), D(2025, 5, 1)):
        world.run(day)
    # then the March and April charges (outside the period) earned nothing, and each month
    # was paid once
    assert world.rewards(partner) == [(D(2025, 1, 10), 300), (D(2025, 2, 10), 300)]
    assert world.payouts(partner) == [
        (D(2025, 2, 1), 300, "balance", "paid"),
        (D(2025, 3, 1), 300, "balance", "paid"),
    ]
    assert world.balance(partner.client) == 600
    assert get_reconcile_report().ok


def test_turnover_condition_crosses_its_threshold_mid_month() -> None:
    # given a fixed 5.00 per charge once the referral's turnover over 30 days reaches 50.00
    world = ReferralWorld()
    program = world.program()
    world.rule(
        program,
        accrual_type="fixed",
        amount_minor=500,
        condition="turnover",
        turnover_minor=5000,
        turnover_days=30,
    )
    partner = world.partner(program)
    small = world.tariff("S", {"1m": 2000})
    client = world.referral(partner, D(2025, 1, 2))
    # when it opens a 20.00 service on 3, 12 and 20 January (turnover 20, 40, 60)
    for day in (D(2025, 1, 3), D(2025, 1, 12), D(2025, 1, 20)):
        world.service(client, small, day)
    world.run(D(2025, 2, 1))
    # then only the charge of the 20th, which crossed 50.00, earned
    assert world.rewards(partner) == [(D(2025, 1, 20), 500)]
    # when the three renew in February (each 30-day window holds three charges: 60.00)
    for day in (D(2025, 2, 3), D(2025, 2, 12), D(2025, 2, 20)):
        world.bill(day)
    world.run(D(2025, 3, 1))
    # then each renewal earned, and the 1sts paid 5.00 then 15.00
    assert world.rewards(partner)[1:] == [
        (D(2025, 2, 3), 500),
        (D(2025, 2, 12), 500),
        (D(2025, 2, 20), 500),
    ]
    assert world.payouts(partner) == [
        (D(2025, 2, 1), 500, "balance", "paid"),
        (D(2025, 3, 1), 1500, "balance", "paid"),
    ]
    assert world.balance(partner.client) == 2000


def test_frequency_first_n_and_once_and_a_reward_n_days_after_the_charge() -> None:
    # given three rules: 10 % of the first 2 charges; 7.00 once; 1 % 25 days after each charge
    world = ReferralWorld()
    program = world.program()
    first_two = world.rule(program, frequency="first_n", frequency_count=2)
    once = world.rule(program, accrual_type="fixed", amount_minor=700, frequency="once")
    later = world.rule(program, percent=1, moment="days_after", moment_days=25)
    partner = world.partner(program)
    vps = world.tariff("VPS", {"1m": 3000})
    client = world.referral(partner, D(2025, 1, 5))
    # when the 30.00 service is charged on 10 Jan, 10 Feb, 10 Mar and 10 Apr
    world.service(client, vps, D(2025, 1, 10))
    for day in (D(2025, 2, 1), D(2025, 2, 10), D(2025, 3, 1), D(2025, 3, 10), D(2025, 4, 1)):
        if day.day == 10:
            world.bill(day)
        world.run(day)
    world.bill(D(2025, 4, 10))
    world.run(D(2025, 5, 1))
    # then per rule and day (the late rule lands 25 days on: 4 Feb, 7 Mar, 4 Apr, 5 May)
    rows = sorted((r.rule_id, r.day, r.amount_minor) for r in partner.rewards.all())
    assert rows == sorted(
        [
            (first_two.pk, D(2025, 1, 10), 300),
            (first_two.pk, D(2025, 2, 10), 300),
            (once.pk, D(2025, 1, 10), 700),
            (later.pk, D(2025, 2, 4), 30),
            (later.pk, D(2025, 3, 7), 30),
            (later.pk, D(2025, 4, 4), 30),
        ]
    )
    assert world.payouts(partner) == [
        (D(2025, 2, 1), 1000, "balance", "paid"),
        (D(2025, 3, 1), 330, "balance", "paid"),
        (D(2025, 4, 1), 30, "balance", "paid"),
        (D(2025, 5, 1), 30, "balance", "paid"),
    ]
    # the reward of the 10 April charge is due on 5 May: paid on 1 June
    assert world.payable(partner) == 0
    world.run(D(2025, 6, 1))
    assert world.payouts(partner)[-1] == (D(2025, 6, 1), 30, "balance", "paid")
    assert world.balance(partner.client) == 1420


def test_reward_on_payment_waits_until_the_debt_is_paid() -> None:
    # given 10 % on payment and a referral with a 100.00 credit limit and no money
    import time_machine

    from billow.billing.actions import set_client_billing_settings
    from tests.billing.world import at

    world = ReferralWorld()
    program = world.program()
    world.rule(program, moment="on_payment")
    partner = world.partner(program)
    vps = world.tariff("VPS", {"1m": 3000})
    client = world.referral(partner, D(2025, 1, 5), balance=0)
    set_client_billing_settings(client=client, currency="USD", credit_limit_minor=10_000)
    # when it is charged 30.00 on credit on 10 Jan and pays 30.00 on 15 Feb
    world.service(client, vps, D(2025, 1, 10))
    world.run(D(2025, 2, 1))
    assert world.rewards(partner) == []
    world.bill(D(2025, 2, 10))  # -60.00
    with time_machine.travel(at(D(2025, 2, 15)), tick=False):
        world.topup(client, 3000)  # -30.00: the January charge is still not covered
    with time_machine.travel(at(D(2025, 2, 20)), tick=False):
        world.topup(client, 3000)  # 0.00: both are paid
    world.run(D(2025, 3, 1))
    # then both charges earned on 20 February, paid on 1 March
    assert world.rewards(partner) == [(D(2025, 2, 20), 600)]
    assert world.payouts(partner) == [(D(2025, 3, 1), 600, "balance", "paid")]
