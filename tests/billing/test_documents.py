"""billing.documents: charges documented at once (an invoice per client and run day), left
undocumented (post-paid wallets, ``documents=False``) and documented later by
``document_pending_charges`` exactly once."""

from __future__ import annotations

from datetime import date

import pytest

from billow.billing.actions import set_client_billing_settings
from billow.billing.documents import document_pending_charges
from billow.billing.models import Expense
from billow.billing.wallet import MoneyItem, lock_wallet, write_money
from billow.invoicing.models import Invoice
from billow.ledger.selectors import get_reconcile_report
from tests.billing.world import World, at

pytestmark = pytest.mark.django_db


def test_post_paid_charges_stay_undocumented_until_gathered_once() -> None:
    # given a post-paid client with two services and a prepaid one, renewed by the run
    world = World()
    tariff = world.tariff("VPS", {"1m": 1000})
    late = world.client()
    set_client_billing_settings(client=late, currency="USD", postpaid=True)
    first = world.service(late, tariff, date(2025, 3, 5))
    second = world.service(late, tariff, date(2025, 3, 20))
    early = world.client(balance=5000)
    world.service(early, tariff, date(2025, 3, 5))
    prepaid_invoices = Invoice.objects.count()
    world.bill(date(2025, 4, 5))
    # then the post-paid charges have no invoice; the prepaid client got its run-day invoice
    assert not Expense.objects.filter(client=late, invoice__isnull=False).exists()
    assert Invoice.objects.filter(client=late).count() == 0
    assert Invoice.objects.count() == prepaid_invoices + 1
    # when the post-paid charges before 1 May are gathered, unpaid
    issued = document_pending_charges(
        until=date(2025, 5, 1), postpaid=True, paid=False, now=at(date(2025, 5, 1))
    )
    # then one issued invoice holds the three charges in charge order and documents them
    (invoice,) = issued
    assert (invoice.client_id, invoice.status, invoice.total_minor) == (late.pk, "issued", 3000)
    assert [x.service_id for x in invoice.lines.order_by("position")] == [
        first.pk,
        second.pk,
        first.pk,
    ]
    assert set(Expense.objects.filter(client=late).values_list("invoice_id", flat=True)) == {
        invoice.pk
    }
    # and a rerun documents nothing twice
    assert (
        document_pending_charges(
            until=date(2025, 5, 1), postpaid=True, paid=False, now=at(date(2025, 5, 1))
        )
        == []
    )
    assert get_reconcile_report().ok


def test_charges_written_without_documents_are_gathered_by_day_and_client() -> None:
    # given charges written with documents=False on 2 and 3 March for two clients
    world = World()
    tariff = world.tariff("VPS", {"1m": 1000})
    one, two = world.client(balance=10_000), world.client(balance=10_000)
    s1 = world.service(one, tariff, date(2025, 3, 1), charge=False)
    s2 = world.service(two, tariff, date(2025, 3, 1), charge=False)
    before = Invoice.objects.count()
    for day, service in ((date(2025, 3, 2), s1), (date(2025, 3, 3), s1), (date(2025, 3, 2), s2)):
        key = (service.client_id, service.provider_id, "USD")
        wallet = lock_wallet(*key)
        item = MoneyItem(
            service.pk,
            key,
            "charge",
            "period",
            f"hourly:{service.pk}:{day}",
            day,
            date(2025, 3, day.day + 1),
            40,
        )
        write_money([item], {key: wallet.account}, now=at(day), actor=None, documents=False)
    assert Invoice.objects.count() == before
    assert Expense.objects.filter(invoice__isnull=True).count() == 3
    # when 2 March is documented for the first client only
    (invoice,) = document_pending_charges(
        day=date(2025, 3, 2), client_ids=[one.pk], now=at(date(2025, 3, 3), 0)
    )
    # then only that charge is on it, paid; the other two wait
    assert (invoice.client_id, invoice.total_minor, invoice.status) == (one.pk, 40, "paid")
    assert Expense.objects.filter(invoice__isnull=True).count() == 2
    # and the rest of 2 March is documented for every client, without 3 March
    (other,) = document_pending_charges(day=date(2025, 3, 2), now=at(date(2025, 3, 3), 0))
    assert other.client_id == two.pk
    assert list(
        Expense.objects.filter(invoice__isnull=True).values_list("period_from", flat=True)
    ) == [date(2025, 3, 3)]
    # and numbers stay gapless
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == list(range(1, len(numbers) + 1))


def test_either_day_or_until() -> None:
    with pytest.raises(ValueError):
        document_pending_charges(now=at(date(2025, 3, 3)))
