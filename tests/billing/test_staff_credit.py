"""Staff credit notes: part of a charge back to the balance with its tax, a credit note with the
reason against the charge's invoice; once per form nonce; refusals write nothing."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client as HttpClient
from django.urls import reverse

from billow.accounts.models import Client
from billow.billing.actions import credit_charge
from billow.billing.models import Expense
from billow.core.errors import BillowError
from billow.invoicing.models import CreditNote, TaxRule
from billow.ledger.selectors import get_reconcile_report
from tests.billing.world import World, at, db_state

pytestmark = pytest.mark.django_db


def _taxed_charge(world: World) -> tuple[Client, Expense]:
    TaxRule.objects.create(provider=world.provider, name="VAT", country="DE", rate=Decimal(19))
    client = world.client(balance=10_000)
    Client.objects.filter(pk=client.pk).update(country="DE")
    service = world.service(client, world.tariff("VPS", {"1m": 3000}), date(2025, 4, 1))
    return client, Expense.objects.get(service=service)


def test_a_staff_credit_gives_back_the_amount_and_its_tax_with_a_credit_note() -> None:
    # given a 30.00 + 5.70 charge documented by an invoice
    world = World()
    client, charge = _taxed_charge(world)
    # when staff credit 10.00 of it for an outage
    credit = credit_charge(
        charge=charge,
        amount_minor=1000,
        reason="Outage on 3 April",
        nonce="n1",
        now=at(date(2025, 4, 5)),
    )
    # then 10.00 + 1.90 come back and the credit note says why
    assert (credit.kind, credit.amount_minor, credit.tax_minor, credit.gross_minor) == (
        "credit",
        1000,
        190,
        1190,
    )
    assert world.balance(client) == 10_000 - 3570 + 1190
    note = CreditNote.objects.get()
    assert (note.invoice_id, note.amount_minor, note.subtotal_minor, note.tax_minor) == (
        charge.invoice_id,
        1190,
        1000,
        190,
    )
    assert note.reason == "Outage on 3 April"
    # and the same form posted again credits nothing more
    again = credit_charge(charge=charge, amount_minor=1000, reason="Outage", nonce="n1")
    assert again.pk == credit.pk and CreditNote.objects.count() == 1
    assert get_reconcile_report().ok


@pytest.mark.parametrize(
    ("amount", "reason", "code"),
    [
        (0, "x", "invalid_credit_amount"),
        (1000, "  ", "reason_required"),
        (3001, "too much", "credit_exceeds_charge"),
    ],
)
def test_a_refused_staff_credit_writes_nothing(amount: int, reason: str, code: str) -> None:
    world = World()
    _client, charge = _taxed_charge(world)
    before = (db_state(), CreditNote.objects.count())
    with pytest.raises(BillowError) as refused:
        credit_charge(charge=charge, amount_minor=amount, reason=reason, nonce="n")
    assert refused.value.code == code
    assert (db_state(), CreditNote.objects.count()) == before


def test_staff_issue_a_credit_note_from_the_admin(client: HttpClient) -> None:
    # given a taxed charge and a superuser in the admin
    world = World()
    customer, charge = _taxed_charge(world)
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    url = reverse("admin:billing_expense_credit", args=[charge.pk])
    page = client.get(url)
    assert page.status_code == 200
    match = re.search(r'name="nonce" value="([0-9a-f]{32})"', page.content.decode())
    assert match
    form = {"amount": "5.00", "reason": "Goodwill", "nonce": match.group(1)}
    # when the form is posted twice
    first = client.post(url, form)
    client.post(url, form)
    # then one credit of 5.00 + 0.95 tax was made
    assert first.status_code == 302
    assert world.balance(customer) == 10_000 - 3570 + 595
    assert CreditNote.objects.get().reason == "Goodwill"
