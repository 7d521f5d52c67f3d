"""Scenarios: every charge is taxed by the checkout's rules and documented (issue 12).

Each scenario travels in time, asserts net, tax and gross to the cent, checks that every
document's lines add up to its totals (and every line's unit x quantity - discount = net), and
that the ledger reconciles."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billow.accounts.models import Client, Payer, PayerKind
from billow.billing.actions import change_addons, change_tariff, delete_service, renew_service
from billow.billing.models import Expense
from billow.catalog import actions as catalog
from billow.invoicing.models import CreditNote, Invoice, ProviderTaxProfile, TaxRule
from billow.ledger.models import AccountKind, LedgerAccount
from billow.ledger.selectors import get_reconcile_report
from billow.services.models import Service
from tests.billing.world import World, at

pytestmark = pytest.mark.django_db


def taxed_world(rate: str, *, included: bool = False, country: str = "DE") -> World:
    world = World()
    TaxRule.objects.create(
        provider=world.provider, name="VAT", country=country, rate=Decimal(rate), included=included
    )
    return world


def german(world: World, balance: int, country: str = "DE") -> Client:
    client = world.client(balance=balance)
    Client.objects.filter(pk=client.pk).update(country=country)
    client.refresh_from_db()
    return client


def money(service: Service) -> list[tuple[str, date, int, int, int]]:
    """(kind, from, amount, tax, gross) of the service's expenses, oldest first."""
    return [
        (e.kind, e.period_from, e.amount_minor, e.tax_minor, e.gross_minor)
        for e in Expense.objects.filter(service=service).order_by("id")
    ]


def account(world: World, kind: str) -> int:
    found = LedgerAccount.objects.filter(kind=kind, provider=world.provider, client=None).first()
    return 0 if found is None else found.balance_minor


def assert_documents_add_up() -> None:
    """Every invoice's lines add up to its totals, every line's unit x quantity - discount is
    its net, every documented charge is on its invoice, every documented refund or credit adds
    up to its credit notes (net, tax, total); the ledger reconciles."""
    for invoice in Invoice.objects.prefetch_related("lines"):
        lines = list(invoice.lines.all())
        assert invoice.subtotal_minor == sum(x.net_minor for x in lines)
        assert invoice.tax_minor == sum(x.tax_minor for x in lines)
        assert invoice.total_minor == sum(x.total_minor for x in lines)
        for x in lines:
            assert x.unit_price_minor * x.quantity - x.discount_minor == x.net_minor
            assert x.net_minor <= x.total_minor
        charged = Expense.objects.filter(invoice=invoice)
        assert sum(e.gross_minor for e in charged) == invoice.total_minor
        assert sum(e.tax_minor for e in charged) == invoice.tax_minor
    for note in CreditNote.objects.all():
        assert note.subtotal_minor <= note.amount_minor
    for back in Expense.objects.exclude(kind="charge").exclude(credit_note=None):
        notes = list(CreditNote.objects.filter(reference=back.key))  # one, or one per invoice
        assert back.credit_note_id in {n.pk for n in notes}
        assert sum(n.amount_minor for n in notes) == back.gross_minor
        assert sum(n.tax_minor for n in notes) == back.tax_minor
    assert get_reconcile_report().ok


def test_a_renewal_with_19_percent_added_tax() -> None:
    # given 10.00 a month, 19 % VAT added for German payers, a German client with 50.00
    world = taxed_world("19")
    client = german(world, 5000)
    tariff = world.tariff("VPS", {"1m": 1000})
    service = world.service(client, tariff, date(2025, 4, 1))
    # when the billing run renews it on 1 May
    world.bill(date(2025, 5, 1))
    # then each period is 10.00 net + 1.90 tax = 11.90 from the balance
    assert money(service) == [
        ("charge", date(2025, 4, 1), 1000, 190, 1190),
        ("charge", date(2025, 5, 1), 1000, 190, 1190),
    ]
    assert world.balance(client) == 5000 - 2 * 1190
    assert account(world, AccountKind.TAX_PAYABLE) == 380
    assert account(world, AccountKind.PROVIDER_REVENUE) == 2000
    # and the run day's invoice is paid, with one line for the period and its dates
    invoice = Invoice.objects.get(issued_at__date=date(2025, 5, 1))
    assert (invoice.status, invoice.subtotal_minor, invoice.tax_minor, invoice.total_minor) == (
        "paid",
        1000,
        190,
        1190,
    )
    line = invoice.lines.get()
    assert (line.service_id, line.period_from, line.period_to) == (
        service.pk,
        date(2025, 5, 1),
        date(2025, 6, 1),
    )
    assert (line.unit_price_minor, line.tax_rate, line.proration) == (1000, Decimal(19), None)
    assert "2025-05-01 - 2025-05-31" in line.description
    assert_documents_add_up()


def test_a_renewal_with_21_percent_included_tax() -> None:
    # given 10.00 a month with 21 % VAT included
    world = taxed_world("21", included=True)
    client = german(world, 5000)
    service = world.service(client, world.tariff("VPS", {"1m": 1000}), date(2025, 4, 1))
    # when renewed by the run
    world.bill(date(2025, 5, 1))
    # then 10.00 leaves the balance, 1.74 of it tax (10.00 x 21/121 = 1.7355), 8.26 revenue
    assert money(service)[-1] == ("charge", date(2025, 5, 1), 1000, 174, 1000)
    assert world.balance(client) == 5000 - 2000
    assert account(world, AccountKind.TAX_PAYABLE) == 348
    assert account(world, AccountKind.PROVIDER_REVENUE) == 2000 - 348
    invoice = Invoice.objects.get(issued_at__date=date(2025, 5, 1))
    assert (invoice.subtotal_minor, invoice.tax_minor, invoice.total_minor) == (1000, 174, 1000)
    assert_documents_add_up()


def test_an_upgrade_mid_period_is_taxed_and_invoiced_with_its_proration() -> None:
    # given 30.00 -> 60.00, 19 % added, opened 1 April
    world = taxed_world("19")
    client = german(world, 20_000)
    small = world.tariff("S", {"1m": 3000})
    large = world.tariff("L", {"1m": 6000})
    service = world.service(client, small, date(2025, 4, 1))
    # when upgraded on 16 April (15 of 30 days left)
    change_tariff(service=service, tariff=large, now=at(date(2025, 4, 16)))
    # then 15.00 net + 2.85 tax = 17.85
    assert money(service)[-1] == ("charge", date(2025, 4, 16), 1500, 285, 1785)
    assert world.balance(client) == 20_000 - 3570 - 1785
    invoice = Invoice.objects.order_by("-id").first()
    assert invoice is not None
    line = invoice.lines.get()
    assert (line.unit_price_minor, line.proration, line.list_price_minor, line.total_minor) == (
        1500,
        Decimal("0.5"),
        3000,
        1785,
    )
    assert_documents_add_up()


def test_an_addon_increase_is_taxed() -> None:
    # given RAM 1.00 per extra GiB, 19 % added
    world = taxed_world("19")
    tariff = world.tariff("VPS", {"1m": 3000})
    catalog.create_addon(
        tariff=tariff,
        name="RAM",
        intname="ram",
        unit="GiB",
        value_type="int",
        billing_type="on_order",
        currency="USD",
        unit_price_minor=100,
        included=2,
        min_value=1,
        max_value=64,
        step=1,
        edit_policy="increase_only",
    )
    client = german(world, 10_000)
    service = world.service(client, tariff, date(2025, 4, 1), addon_values={"ram": 4})
    # when RAM goes 4 -> 8 GiB on 16 April
    change_addons(service=service, addon_values={"ram": 8}, now=at(date(2025, 4, 16)))
    # then 2.00 net + 0.38 tax
    assert money(service)[-1] == ("charge", date(2025, 4, 16), 200, 38, 238)
    assert world.balance(client) == 10_000 - 3808 - 238
    assert_documents_add_up()


def test_a_deletion_refund_gives_the_tax_back_with_a_credit_note() -> None:
    # given 30.00 + 19 % opened 1 April (35.70 paid)
    world = taxed_world("19")
    client = german(world, 10_000)
    service = world.service(client, world.tariff("VPS", {"1m": 3000}), date(2025, 4, 1))
    opening = Invoice.objects.get()
    # when deleted with a refund on 16 April (15 of 30 days unused)
    delete_service(service=service, when="now", refund=True, now=at(date(2025, 4, 16)))
    # then 15.00 + 2.85 tax come back, and a credit note corrects the opening invoice
    assert money(service)[-1] == ("refund", date(2025, 4, 16), 1500, 285, 1785)
    assert world.balance(client) == 10_000 - 3570 + 1785
    assert account(world, AccountKind.TAX_PAYABLE) == 570 - 285
    note = CreditNote.objects.get()
    assert (note.invoice_id, note.subtotal_minor, note.tax_minor, note.amount_minor) == (
        opening.pk,
        1500,
        285,
        1785,
    )
    assert Expense.objects.get(kind="refund").credit_note_id == note.pk
    assert_documents_add_up()


def test_a_reverse_charge_b2b_renewal_charges_no_vat_and_says_so() -> None:
    # given a provider registered for VAT in Germany, 20 % VAT for French payers, and a French
    # company with a valid VAT number
    world = taxed_world("20", country="FR")
    ProviderTaxProfile.objects.create(provider=world.provider, country="DE")
    client = german(world, 5000, country="FR")
    Payer.objects.create(
        client=client,
        kind=PayerKind.COMPANY,
        name="ACME SARL",
        tax_id="FR40303265045",
        country="FR",
    )
    service = world.service(client, world.tariff("VPS", {"1m": 1000}), date(2025, 4, 1))
    # when renewed
    world.bill(date(2025, 5, 1))
    # then no VAT: 10.00 net, reverse charge on the expense and the invoice
    assert money(service)[-1] == ("charge", date(2025, 5, 1), 1000, 0, 1000)
    assert Expense.objects.filter(service=service, reverse_charge=True).count() == 2
    invoice = Invoice.objects.get(issued_at__date=date(2025, 5, 1))
    assert (invoice.reverse_charge, invoice.tax_minor, invoice.total_minor) == (True, 0, 1000)
    assert invoice.payer_snapshot["tax_id"] == "FR40303265045"
    # and a French consumer of the same provider pays the 20 %
    person = german(world, 5000, country="FR")
    other = world.service(person, world.tariff("VPS2", {"1m": 1000}), date(2025, 4, 1))
    assert money(other)[-1] == ("charge", date(2025, 4, 1), 1000, 200, 1200)
    assert_documents_add_up()


def test_a_daily_service_over_a_month_boundary_gets_an_invoice_each_run_day() -> None:
    # given 0.50 a day, 19 % added, opened 30 March
    world = taxed_world("19")
    client = german(world, 1000)
    tariff = world.tariff("Daily", {"day": 50})
    service = world.service(client, tariff, date(2025, 3, 30), period="day", auto_renew="")
    # when the run goes on every day to 2 April
    for day in (date(2025, 3, 31), date(2025, 4, 1), date(2025, 4, 2)):
        world.bill(day)
    # then each day is 0.50 + 0.10 (9.5 rounds half up), one paid invoice per run day
    assert money(service) == [
        ("charge", date(2025, 3, d.day) if d.month == 3 else d, 50, 10, 60)
        for d in (date(2025, 3, 30), date(2025, 3, 31), date(2025, 4, 1), date(2025, 4, 2))
    ]
    assert world.balance(client) == 1000 - 4 * 60
    run_days = Invoice.objects.exclude(issued_at__date=date(2025, 3, 30)).order_by("id")
    assert [(i.issued_at.date(), i.total_minor, i.tax_minor) for i in run_days] == [
        (date(2025, 3, 31), 60, 10),
        (date(2025, 4, 1), 60, 10),
        (date(2025, 4, 2), 60, 10),
    ]
    # gapless numbers in issue order
    numbers = list(Invoice.objects.order_by("id").values_list("number", flat=True))
    assert numbers == list(range(numbers[0], numbers[0] + 4))
    assert_documents_add_up()


def test_the_run_issues_one_invoice_per_client_with_a_line_per_service() -> None:
    # given two services of one client and one of another, all due 1 May, no tax rules
    world = World()
    first, second = world.client(balance=10_000), world.client(balance=10_000)
    tariff = world.tariff("VPS", {"1m": 1000})
    a = world.service(first, tariff, date(2025, 4, 1))
    b = world.service(first, tariff, date(2025, 4, 1))
    world.service(second, tariff, date(2025, 4, 1))
    before = Invoice.objects.count()
    # when the run renews them
    world.bill(date(2025, 5, 1))
    # then two invoices: the first client's has both services' lines; amounts as without tax
    issued = Invoice.objects.order_by("id")[before:]
    assert [(i.client_id, i.total_minor, i.tax_minor) for i in issued] == [
        (first.pk, 2000, 0),
        (second.pk, 1000, 0),
    ]
    assert [x.service_id for x in issued[0].lines.order_by("position")] == [a.pk, b.pk]
    assert world.balance(first) == 10_000 - 4000
    assert_documents_add_up()


def test_a_manual_renewal_is_taxed_and_invoiced() -> None:
    # given 10.00 + 19 % opened 1 April
    world = taxed_world("19")
    client = german(world, 5000)
    service = world.service(client, world.tariff("VPS", {"1m": 1000}), date(2025, 4, 1))
    # when the client renews by hand on 20 April
    renew_service(service=service, now=at(date(2025, 4, 20)))
    # then the next month is 10.00 + 1.90, on its own paid invoice
    assert money(service)[-1] == ("charge", date(2025, 5, 1), 1000, 190, 1190)
    invoice = Invoice.objects.order_by("-id").first()
    assert invoice is not None
    assert (invoice.status, invoice.total_minor, invoice.lines.get().period_from) == (
        "paid",
        1190,
        date(2025, 5, 1),
    )
    assert_documents_add_up()


def test_a_downgrade_credit_reverses_its_tax_with_a_credit_note() -> None:
    # given 60.00 + 19 % opened 1 April, downgrades credited at once
    world = taxed_world("19")
    world.set_product_type(downgrade_policy="now_prorated")
    client = german(world, 20_000)
    small = world.tariff("S", {"1m": 3000})
    service = world.service(client, world.tariff("L", {"1m": 6000}), date(2025, 4, 1))
    # when it moves to 30.00 on 16 April
    change_tariff(service=service, tariff=small, now=at(date(2025, 4, 16)))
    # then 15.00 + 2.85 come back, and a credit note corrects the opening invoice
    assert money(service)[-1] == ("credit", date(2025, 4, 16), 1500, 285, 1785)
    assert world.balance(client) == 20_000 - 7140 + 1785
    note = CreditNote.objects.get()
    assert (note.amount_minor, note.subtotal_minor, note.tax_minor) == (1785, 1500, 285)
    assert_documents_add_up()


def test_a_refund_after_an_upgrade_credits_both_invoices_newest_first() -> None:
    # given 30.00 + 19 % opened 1 April (invoice A), upgraded to 60.00 on 16 April (invoice B)
    world = taxed_world("19")
    client = german(world, 20_000)
    large = world.tariff("L", {"1m": 6000})
    service = world.service(client, world.tariff("S", {"1m": 3000}), date(2025, 4, 1))
    change_tariff(service=service, tariff=large, now=at(date(2025, 4, 16)))
    first, second = Invoice.objects.order_by("id")
    # when deleted with a refund on 21 April (10 of 30 days left of 60.00 = 20.00)
    delete_service(service=service, when="now", refund=True, now=at(date(2025, 4, 21)))
    # then 20.00 + 3.80 (20.00 x 8.55/45.00) come back, credited on B up to its total, then A
    assert money(service)[-1] == ("refund", date(2025, 4, 21), 2000, 380, 2380)
    notes = [
        (n.invoice_id, n.amount_minor, n.subtotal_minor, n.tax_minor)
        for n in CreditNote.objects.order_by("id")
    ]
    assert notes == [(second.pk, 1785, 1500, 285), (first.pk, 595, 500, 95)]
    assert world.balance(client) == 20_000 - 3570 - 1785 + 2380
    assert_documents_add_up()


def test_a_personal_rate_replaces_the_country_rate_for_one_client() -> None:
    # given 19 % for Germany and a personal 7 % for one German client
    world = taxed_world("19")
    special, plain = german(world, 5000), german(world, 5000)
    TaxRule.objects.create(provider=world.provider, name="Personal", client=special, rate=7)
    tariff = world.tariff("VPS", {"1m": 1000})
    a = world.service(special, tariff, date(2025, 4, 1))
    b = world.service(plain, tariff, date(2025, 4, 1))
    # when both renew
    world.bill(date(2025, 5, 1))
    # then the special client pays 0.70 tax, the other 1.90
    assert money(a)[-1] == ("charge", date(2025, 5, 1), 1000, 70, 1070)
    assert money(b)[-1] == ("charge", date(2025, 5, 1), 1000, 190, 1190)
    assert_documents_add_up()
