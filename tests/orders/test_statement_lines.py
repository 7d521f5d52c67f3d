"""The statement a person can follow: every kind of row a client sees says what happened, for
which service and which days, and the balance after it.

Given a client who tops up by bank transfer, gets a goodwill credit from staff, orders a VPS
with 19 % VAT added, upgrades it, has it renewed by the billing run, gets part of the payment
refunded and deletes the service with a refund, when the statement is read, then each row has
its exact sentence (in English and in Russian), the rows are in date order and every balance is
the one after that row.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
import time_machine
from django.utils import translation

from billow.billing.actions import change_tariff, delete_service
from billow.billing.run import run_billing
from billow.core import clock
from billow.core.money import Money
from billow.invoicing.models import TaxRule
from billow.ledger.actions import adjust_client_balance
from billow.ledger.selectors import list_statement_for_client
from billow.ledger.statement import describe_statement
from billow.orders import actions as orders
from billow.payments import actions as payments
from billow.services.models import Service
from tests.orders.shop import Shop
from tests.payments.conftest import make_method

pytestmark = pytest.mark.django_db


@contextmanager
def at(moment: datetime) -> Iterator[None]:
    """Every writer stamps ``moment``: the ones reading ``clock`` and the ones reading the
    wall clock (``timezone.now``)."""
    with time_machine.travel(moment, tick=False), clock.use_clock(clock.FixedClock(moment)):
        yield


#: Between two days of a period, as babel writes it in English and Spanish (thin spaces).
DASH = "\u2009\u2013\u2009"


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


def _story(shop: Shop, oncommit: Any) -> dict[str, Any]:
    TaxRule.objects.create(provider=shop.provider, name="VAT DE", country="DE", rate=19)
    bigger = shop.make_tariff("VPS-M", 2000)
    bank = make_method(shop.provider, "bank_transfer", name="Bank transfer", supports_refunds=True)
    client = shop.client()
    with at(noon(date(2027, 3, 1))):
        payment = payments.create_payment(
            client=client, amount=Money(10_000, "USD"), method=bank, idempotency_key="story-pay"
        )
        with oncommit(execute=True):
            payment = payments.confirm_manual_payment(payment=payment)
    with at(noon(date(2027, 3, 2))):
        adjust_client_balance(
            account=shop.wallet(client),
            amount_minor=500,
            direction="credit",
            reason="goodwill",
            nonce="story-goodwill",
        )
    with at(noon(date(2027, 3, 10))), oncommit(execute=True):
        orders.add_to_cart(
            client=client,
            tariff=shop.tariff,
            period="1m",
            currency="USD",
            addon_values={"cpu": 3},
            parameters={"os": "debian-12"},
        )
        order = orders.checkout(client=client, provider_id=shop.provider.pk).order
    svc = Service.objects.get(client=client)
    with at(noon(date(2027, 3, 20))), oncommit(execute=True):
        change_tariff(service=svc, tariff=bigger)
    with at(datetime(2027, 4, 10, 0, 30, tzinfo=UTC)), oncommit(execute=True):
        run_billing(day=date(2027, 4, 10))
    with at(noon(date(2027, 4, 15))), oncommit(execute=True):
        payments.refund_payment(
            payment=payment, idempotency_key="story-refund", amount=Money(1_000, "USD")
        )
    with at(noon(date(2027, 4, 20))), oncommit(execute=True):
        delete_service(service=svc, when="now", refund=True)
    payment.refresh_from_db()
    return {"client": client, "order": order, "svc": svc, "payment": payment}


def _read(client_id: int, **filters: Any) -> list[tuple[str, str, int, int]]:
    entries = list_statement_for_client(client_id, **filters)
    return [
        (
            line.created_at.date().isoformat(),
            line.description,
            line.amount_minor,
            line.balance_minor,
        )
        for line in describe_statement(entries)
    ]


def test_every_row_says_what_happened_with_the_balance_after_it(
    shop: Shop, django_capture_on_commit_callbacks: Any
) -> None:
    story = _story(shop, django_capture_on_commit_callbacks)
    svc, order, payment = story["svc"], story["order"], story["payment"]
    name = f"VPS-S #{svc.pk}"  # the checkout names the service after its tariff

    rows = _read(story["client"].pk)

    assert [(day, text) for day, text, _amount, _balance in rows] == [
        ("2027-03-01", "Top-up via Bank transfer"),  # no gateway reference for a transfer
        ("2027-03-02", "Balance adjustment: goodwill"),
        ("2027-03-10", f"First period of {name}, Mar 10{DASH}Apr 9, 2027"),
        ("2027-03-10", f"Tax on order #{order.pk}"),
        ("2027-03-20", f"Tariff upgrade of {name}, Mar 20{DASH}Apr 9, 2027"),
        ("2027-04-10", f"Renewal of {name}, Apr 10{DASH}May 9, 2027"),
        ("2027-04-15", f"Refund of payment #{payment.pk} via Bank transfer"),
        ("2027-04-20", f"Refund of the unused part of {name}, Apr 20{DASH}May 9, 2027"),
    ]
    amounts = [amount for _day, _text, amount, _balance in rows]
    assert amounts[:4] == [10_000, 500, -1600, -304]  # 1600 net + 19 % VAT added
    assert amounts[6] == -1_000
    running = [sum(amounts[: i + 1]) for i in range(len(amounts))]
    assert [balance for *_rest, balance in rows] == running
    assert running[-1] == shop.balance(story["client"])


def test_the_sentences_follow_the_language(
    shop: Shop, django_capture_on_commit_callbacks: Any
) -> None:
    story = _story(shop, django_capture_on_commit_callbacks)
    name = f"VPS-S #{story['svc'].pk}"

    with translation.override("ru"):
        ru = [text for _day, text, _a, _b in _read(story["client"].pk)]
    with translation.override("es"):
        es = [text for _day, text, _a, _b in _read(story["client"].pk)]

    assert ru[1] == "Корректировка баланса: goodwill"
    assert ru[5] == f"Продление {name}, 10 апр. — 9 мая 2027\u202fг."  # noqa: RUF001
    assert es[5] == f"Renovación de {name}, 10 abr{DASH}9 may 2027"


def test_a_quick_order_never_configured_reads_as_charged_then_given_back(
    shop: Shop, django_capture_on_commit_callbacks: Any
) -> None:
    from billow.orders.expiry import expire_unconfigured_services

    # given VAT added, 11.90 credited and a quick order (10.00 + 1.90) never configured
    TaxRule.objects.create(provider=shop.provider, name="VAT DE", country="DE", rate=19)
    with at(noon(date(2027, 3, 9))):
        client = shop.client(balance=1190)
    with at(noon(date(2027, 3, 10))):
        orders.add_to_cart(
            client=client,
            tariff=shop.tariff,
            period="1m",
            currency="USD",
            addon_values={"cpu": 1},
            parameters={},
            quick=True,
        )
        order = orders.checkout(client=client, provider_id=shop.provider.pk).order
    svc = Service.objects.get(client=client)
    # when the expiry gives the whole price back after 30 days
    after = datetime(2027, 4, 9, 13, 0, tzinfo=UTC)
    with at(after), django_capture_on_commit_callbacks(execute=True):
        assert expire_unconfigured_services(now=after) == [svc.pk]
    # then the statement says so, the tax row included
    name = f"VPS-S #{svc.pk}"
    assert _read(client.pk) == [
        ("2027-03-09", "Balance adjustment: top-up", 1190, 1190),
        ("2027-03-10", f"First period of {name}, Mar 10{DASH}Apr 9, 2027", -1000, 190),
        ("2027-03-10", f"Tax on order #{order.pk}", -190, 0),
        ("2027-04-09", f"Refund of {name}, not configured in time", 1000, 1000),
        ("2027-04-09", f"Tax refund for {name}, order #{order.pk}", 190, 1190),
    ]


def test_daily_charges_credits_and_addon_changes_have_their_own_sentences() -> None:
    from billow.billing.models import ExpenseKind as K
    from billow.billing.models import ExpenseReason as R
    from billow.billing.statement import expense_sentence

    row = {
        "key": "k",
        "service_id": 7,
        "service__name": "db-1",
        "service__tariff__name": "VPS-S",
        "period_from": date(2027, 3, 5),
    }
    first = date(2027, 3, 1)

    def said(kind: str, reason: str, to: date) -> str:
        return expense_sentence({**row, "kind": kind, "reason": reason, "period_to": to}, first)

    assert said(K.CHARGE, R.PERIOD, date(2027, 3, 6)) == "Daily charge for db-1 #7, Mar 5, 2027"
    assert said(K.CHARGE, R.ADDONS, date(2027, 4, 1)) == (
        f"Addon change of db-1 #7, Mar 5{DASH}31, 2027"
    )
    assert said(K.CREDIT, R.DOWNGRADE, date(2027, 4, 1)) == (
        f"Tariff downgrade credit for db-1 #7, Mar 5{DASH}31, 2027"
    )
    assert said(K.CREDIT, R.ADDONS, date(2027, 4, 1)) == (
        f"Addon reduction credit for db-1 #7, Mar 5{DASH}31, 2027"
    )
    assert said(K.REFUND, R.UPGRADE, date(2027, 4, 1)) == (
        f"Refund of the unused part (Tariff upgrade (prorated difference)) for db-1 #7, "
        f"Mar 5{DASH}31, 2027"
    )
