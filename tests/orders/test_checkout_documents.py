"""A checkout's charges carry their tax and are documented by the order's invoice, so a later
refund gives back its share of the tax with a credit note against that invoice (issue 12)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import pytest

from billow.billing.actions import delete_service
from billow.billing.models import Expense
from billow.invoicing.models import CreditNote, TaxRule
from billow.ledger.models import AccountKind, LedgerAccount
from billow.ledger.selectors import get_reconcile_report
from billow.orders import actions
from billow.services.models import Service
from tests.orders.shop import Shop
from tests.orders.test_checkout import add

pytestmark = pytest.mark.django_db


def test_a_checkout_charge_records_its_tax_and_a_refund_gives_its_share_back(
    shop: Shop, django_capture_on_commit_callbacks: Any
) -> None:
    # given 19 % VAT added for German payers and a 16.00 VPS bought from the balance
    TaxRule.objects.create(provider=shop.provider, name="VAT DE", country="DE", rate=19)
    client = shop.client(balance=5000)
    add(shop, client)
    with django_capture_on_commit_callbacks(execute=True):  # the module opens it
        order = actions.checkout(client=client, provider_id=shop.provider.pk).order
    svc = Service.objects.get(client=client)
    charge = Expense.objects.get(service=svc)
    # then the charge records 3.04 tax added on 16.00 and the order's invoice documents it
    assert (charge.amount_minor, charge.tax_minor, charge.tax_added_minor) == (1600, 304, 304)
    assert charge.invoice_id == order.invoice_id
    assert shop.balance(client) == 5000 - 1904
    # when the service is deleted with a refund on 25 March (16 of 31 days unused)
    delete_service(
        service=svc,
        when="now",
        refund=True,
        now=datetime.combine(date(2027, 3, 25), time(12), tzinfo=UTC),
    )
    # then 16.00 x 16/31 = 8.26 comes back with 8.26 x 304/1600 = 1.57 of the tax
    refund = Expense.objects.get(service=svc, kind="refund")
    assert (refund.amount_minor, refund.tax_minor, refund.gross_minor) == (826, 157, 983)
    assert shop.balance(client) == 5000 - 1904 + 983
    payable = LedgerAccount.objects.get(kind=AccountKind.TAX_PAYABLE, provider=shop.provider)
    assert payable.balance_minor == 304 - 157
    # and a credit note corrects the order's invoice
    note = CreditNote.objects.get()
    assert (note.invoice_id, note.amount_minor, note.subtotal_minor, note.tax_minor) == (
        order.invoice_id,
        983,
        826,
        157,
    )
    assert refund.credit_note_id == note.pk
    assert get_reconcile_report().ok
