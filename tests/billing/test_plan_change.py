"""One plan-change rule (``billing.plan_change.quote_plan_change``): the quote the client area and
the API show is exactly what ``change_tariff`` / ``change_addons`` then charge, credit or
schedule; a refused quote writes nothing."""

from __future__ import annotations

from datetime import date

import pytest

from billow.billing.actions import change_addons, change_tariff
from billow.billing.errors import BillingError
from billow.billing.models import Expense, PendingChange
from billow.billing.plan_change import quote_plan_change
from billow.catalog import actions as catalog
from billow.catalog.choices import DowngradePolicy
from tests.billing.world import World, at, db_state

pytestmark = pytest.mark.django_db

APRIL_16 = date(2025, 4, 16)  # 15 of April's 30 days left


def _world(policy: str = DowngradePolicy.NOW_PRORATED) -> World:
    return World(downgrade_policy=policy)


def test_an_upgrade_quote_is_what_the_change_charges() -> None:
    world = _world()
    small, large = world.tariff("S", {"1m": 3000}), world.tariff("L", {"1m": 6000})
    client = world.client(balance=20_000)
    service = world.service(client, small, date(2025, 4, 1))
    quote = quote_plan_change(service, tariff_id=large.pk, addon_values=None, today=APRIL_16)
    assert (quote.period, quote.current_minor, quote.new_minor, quote.difference_minor) == (
        "1m",
        3000,
        6000,
        3000,
    )
    assert (quote.when, quote.charge_minor, quote.credit_minor, quote.effective_on) == (
        "now",
        1500,
        0,
        APRIL_16,
    )
    assert [line.amount.amount_minor for line in quote.lines] == [6000]
    change_tariff(service=service, tariff=large, now=at(APRIL_16))
    upgrade = Expense.objects.get(service=service, reason="upgrade")
    assert (upgrade.kind, upgrade.amount_minor, upgrade.period_from, upgrade.period_to) == (
        "charge",
        quote.charge_minor,
        quote.period_from,
        quote.period_to,
    )


def test_a_downgrade_now_quote_is_what_the_change_credits() -> None:
    world = _world(DowngradePolicy.NOW_PRORATED)
    small, large = world.tariff("S", {"1m": 3000}), world.tariff("L", {"1m": 6000})
    client = world.client(balance=20_000)
    service = world.service(client, large, date(2025, 4, 1))
    quote = quote_plan_change(service, tariff_id=small.pk, addon_values=None, today=APRIL_16)
    assert (quote.when, quote.charge_minor, quote.credit_minor, quote.reason) == (
        "now",
        0,
        1500,
        "downgrade",
    )
    change_tariff(service=service, tariff=small, now=at(APRIL_16))
    credit = Expense.objects.get(service=service, kind="credit")
    assert (credit.reason, credit.amount_minor) == ("downgrade", quote.credit_minor)


def test_a_downgrade_at_period_end_quote_is_what_the_change_schedules() -> None:
    world = _world(DowngradePolicy.PERIOD_END)
    small, large = world.tariff("S", {"1m": 3000}), world.tariff("L", {"1m": 6000})
    client = world.client(balance=20_000)
    service = world.service(client, large, date(2025, 4, 1))
    quote = quote_plan_change(service, tariff_id=small.pk, addon_values=None, today=APRIL_16)
    assert (quote.when, quote.charge_minor, quote.credit_minor, quote.effective_on) == (
        "period_end",
        0,
        0,
        date(2025, 5, 1),
    )
    expenses = world.expenses(service)
    change_tariff(service=service, tariff=small, now=at(APRIL_16))
    pending = PendingChange.objects.get(service=service)
    assert (pending.tariff_id, pending.effective_on) == (small.pk, quote.effective_on)
    assert world.expenses(service) == expenses  # no money moved


def test_an_addon_quote_keeps_a_special_price_shifted_by_the_difference() -> None:
    world = _world()
    tariff = world.tariff("S", {"1m": 3000})
    catalog.create_addon(
        tariff=tariff,
        name="RAM",
        intname="ram",
        unit="GiB",
        value_type="int",
        billing_type="on_order",
        currency="USD",
        unit_price_minor=500,
        included=1,
        min_value=1,
        max_value=64,
        step=1,
    )
    client = world.client(balance=20_000)
    service = world.service(
        client, tariff, date(2025, 4, 1), addon_values={"ram": 1}, special_price_minor=2000
    )
    quote = quote_plan_change(service, tariff_id=None, addon_values={"ram": 3}, today=APRIL_16)
    # two more GiB at 5.00 on top of the 20.00 special price; half the month left
    assert (quote.current_minor, quote.new_minor, quote.special_price_minor) == (2000, 3000, 3000)
    assert quote.charge_minor == 500
    change_addons(service=service, addon_values={"ram": 3}, now=at(APRIL_16))
    service.refresh_from_db()
    assert (service.addon_values, service.special_price_minor) == ({"ram": 3}, 3000)
    assert Expense.objects.get(service=service, reason="addons").amount_minor == 500


def test_refused_quotes_and_changes_write_nothing() -> None:
    world = _world()
    small = world.tariff("S", {"1m": 3000})
    other_world = World()
    foreign = other_world.tariff("F", {"1m": 100})
    client = world.client(balance=20_000)
    service = world.service(client, small, date(2025, 4, 1))
    before = db_state()
    cases = [
        (small.pk, None, "nothing_to_change"),
        (None, {}, "nothing_to_change"),
        (foreign.pk, None, "tariff_incompatible"),
    ]
    for tariff_id, values, code in cases:
        with pytest.raises(BillingError) as refused:
            quote_plan_change(service, tariff_id=tariff_id, addon_values=values, today=APRIL_16)
        assert refused.value.code == code
    with pytest.raises(BillingError) as refused:
        change_tariff(service=service, tariff=foreign, now=at(APRIL_16))
    assert refused.value.code == "tariff_incompatible"
    assert db_state() == before
