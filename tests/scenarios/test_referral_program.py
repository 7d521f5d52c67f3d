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
