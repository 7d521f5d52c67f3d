"""Scenario: refunds take back referral rewards in proportion; bank payouts above the threshold
wait for staff; a partner's promo code brings a referral on its first order only."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from billow.billing.actions import change_tariff
from billow.core.actors import Actor
from billow.core.errors import BillowError
from billow.ledger.models import AccountKind, LedgerAccount
from billow.ledger.selectors import get_reconcile_report
from billow.marketing.referrals.models import ReferralPayout
from billow.marketing.referrals.payout import confirm_bank_payout, reject_bank_payout
from billow.orders import actions as orders
from billow.orders import selectors as order_selectors
from tests.billing.world import at
from tests.marketing.referrals.world import ReferralWorld
from tests.scenarios.ordering import module_jobs_inline

__all__ = ["module_jobs_inline"]

pytestmark = pytest.mark.django_db
D = date
STAFF = Actor.system("staff-test")


def test_a_credit_takes_back_rewarded_and_pending_rewards_in_proportion() -> None:
    # given 10 % on charge and a fixed 10.00 thirty days after, a 60.00 service on 1 April
    world = ReferralWorld(downgrade_policy="now_prorated")
    program = world.program()
    percent = world.rule(program)
    fixed = world.rule(
        program, accrual_type="fixed", amount_minor=1000, moment="days_after", moment_days=30
    )
    partner = world.partner(program)
    small = world.tariff("S", {"1m": 3000})
    large = world.tariff("L", {"1m": 6000})
    client = world.referral(partner, D(2025, 3, 20))
    service = world.service(client, large, D(2025, 4, 1))
    world.run(D(2025, 4, 2))
    assert world.rewards(partner) == [(D(2025, 4, 1), 600)]
    # when it moves to the 30.00 tariff on 16 April: 15.00 of the 60.00 is credited back
    change_tariff(service=service, tariff=small, now=at(D(2025, 4, 16)))
    world.run(D(2025, 5, 1))
    # then a quarter of each reward is taken back: 1.50 of the paid one on the day of the
    # credit, 2.50 of the pending one before it is rewarded on 1 May
    rows = sorted((r.rule_id, r.day, r.amount_minor) for r in partner.rewards.all())
    assert rows == [(percent.pk, D(2025, 4, 1), 600), (percent.pk, D(2025, 4, 16), -150)]
    assert world.payouts(partner) == [(D(2025, 5, 1), 450, "balance", "paid")]
    world.run(D(2025, 6, 1))
    assert sorted((r.rule_id, r.day, r.amount_minor) for r in partner.rewards.all())[-1] == (
        fixed.pk,
        D(2025, 5, 1),
        750,
    )
    assert world.payouts(partner)[-1] == (D(2025, 6, 1), 750, "balance", "paid")
    assert world.balance(partner.client) == 1200
    assert world.payable(partner) == 0
    assert get_reconcile_report().ok


def test_a_payout_above_the_threshold_waits_for_staff() -> None:
    # given a bank payout above 5.00 and 10 % of a 60.00 charge (6.00)
    world = ReferralWorld()
    program = world.program(bank_payout_threshold_minor=500)
    world.rule(program)
    partner = world.partner(program)
    large = world.tariff("L", {"1m": 6000})
    client = world.referral(partner, D(2025, 1, 2))
    world.service(client, large, D(2025, 1, 10))
    # when the 1st runs (twice)
    world.run(D(2025, 2, 1))
    world.run(D(2025, 2, 1))
    # then one payout awaits staff, nothing moved to the balance
    assert world.payouts(partner) == [(D(2025, 2, 1), 600, "bank", "awaiting")]
    assert world.payable(partner) == 600
    assert world.balance(partner.client) == 0
    # when staff confirm it (twice: the second is refused and changes nothing)
    payout = ReferralPayout.objects.get(partner=partner)
    confirm_bank_payout(payout=payout, actor=STAFF, now=at(D(2025, 2, 3)))
    with pytest.raises(BillowError) as refused:
        confirm_bank_payout(payout=payout, actor=STAFF, now=at(D(2025, 2, 4)))
    assert refused.value.code == "referral_payout_not_awaiting"
    # then the payable went out through the provider's clearing account
    assert world.payouts(partner) == [(D(2025, 2, 1), 600, "bank", "paid")]
    assert world.payable(partner) == 0
    clearing = LedgerAccount.objects.get(
        kind=AccountKind.GATEWAY_CLEARING, provider=world.provider, currency="USD"
    )
    assert clearing.balance_minor == 600
    assert get_reconcile_report().ok


def test_a_rejected_bank_payout_is_paid_with_the_next_month() -> None:
    world = ReferralWorld()
    program = world.program(bank_payout_threshold_minor=1000)
    world.rule(program)
    partner = world.partner(program)
    large = world.tariff("L", {"1m": 6000})
    client = world.referral(partner, D(2025, 1, 2))
    world.service(client, large, D(2025, 1, 10))
    world.run(D(2025, 2, 1))
    # 6.00 is below the 10.00 threshold: to the balance
    assert world.payouts(partner) == [(D(2025, 2, 1), 600, "balance", "paid")]
    world.bill(D(2025, 2, 10))
    world.bill(D(2025, 3, 10))
    world.run(D(2025, 3, 1))
    world.run(D(2025, 4, 1))
    assert [p[1:] for p in world.payouts(partner)] == [
        (600, "balance", "paid"),
        (600, "balance", "paid"),
        (600, "balance", "paid"),
    ]
    # a second referral doubles April: 12.00 goes to the bank, staff reject it
    other = world.referral(partner, D(2025, 4, 1))
    world.service(other, large, D(2025, 4, 10))
    world.bill(D(2025, 4, 10))
    world.run(D(2025, 5, 1))
    awaiting = ReferralPayout.objects.get(partner=partner, month=D(2025, 5, 1))
    assert (awaiting.amount_minor, awaiting.status) == (1200, "awaiting")
    reject_bank_payout(payout=awaiting, reason="no bank details", actor=STAFF)
    world.bill(D(2025, 5, 10))
    world.run(D(2025, 6, 1))
    # then June pays April's and May's rewards together, by bank again
    june = ReferralPayout.objects.get(partner=partner, month=D(2025, 6, 1))
    assert (june.amount_minor, june.method, june.status) == (2400, "bank", "awaiting")
    assert world.balance(partner.client) == 1800


def _checkout(world: Any, client: Any, tariff: Any, code: str, day: date, capture: Any) -> Any:
    with capture(execute=True):
        return orders.checkout(
            client=client,
            provider_id=world.provider.pk,
            items=[order_selectors.ItemSpec("i1", tariff.pk, "1m")],
            currency="USD",
            promo_code=code,
            now=at(day),
        )


@pytest.mark.usefixtures("module_jobs_inline")
def test_a_promo_code_brings_a_referral_on_its_first_order_only(
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given a program whose codes are FRIEND<partner id>, 10 % off the first order
    world = ReferralWorld()
    program = world.program(promo_code_template="friend@ID@", referral_discount_percent=Decimal(10))
    world.rule(program)
    partner = world.partner(program)
    code = f"FRIEND{partner.pk}"
    assert partner.promo_code is not None and partner.promo_code.code == code
    vps = world.tariff("VPS", {"1m": 3000})
    client = world.client(balance=100_000)
    client.providers.add(world.provider)
    from billow.services import actions as services

    services.create_module_instance(
        module="dummy", name=f"dummy-{world.provider.pk}", product_types=[world.product_type]
    )
    # when the client orders with the code on 10 January (27.00 after the discount)
    result = _checkout(world, client, vps, code, D(2025, 1, 10), django_capture_on_commit_callbacks)
    assert result.paid
    # then the code works once: a second order with it is refused
    with pytest.raises(BillowError) as refused:
        _checkout(world, client, vps, code, D(2025, 1, 11), django_capture_on_commit_callbacks)
    assert refused.value.code == "promo_code_first_order_only"
    # when the 1st runs, the client is the partner's referral "by promo code"
    world.run(D(2025, 2, 1))
    referral = world.live_referral(client)
    assert referral is not None
    assert (referral.partner_id, referral.source, referral.source_detail) == (
        partner.pk,
        "promo_code",
        code,
    )
    # and the first order's 27.00 earned 2.70, paid on 1 February
    assert world.rewards(partner) == [(D(2025, 1, 10), 270)]
    assert world.payouts(partner) == [(D(2025, 2, 1), 270, "balance", "paid")]
    # the renewal at the full price earns 3.00
    world.bill(D(2025, 2, 10))
    world.run(D(2025, 3, 1))
    assert world.rewards(partner)[-1] == (D(2025, 2, 10), 300)
    assert world.balance(partner.client) == 570
