"""Money pages: top-up (commission preview, nonce, sandbox and bank transfer), one-click payment
from a saved method, payments, invoices with the PDF, saved methods. Refusals change nothing;
another client's objects are 404."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.apps import apps

from billow.core.money import Money
from billow.invoicing.actions import issue_credit_note, issue_invoice
from billow.ledger.models import LedgerAccount
from billow.payments import actions
from billow.payments.models import Payment, SavedPaymentMethod
from billow.payments.states import PaymentStatus
from tests.billing.world import World
from tests.payments.conftest import make_method
from tests.web.conftest import WebWorld
from tests.web.money_world import T_INVOICE, MoneyWorld, invoice_line, money_world

pytestmark = pytest.mark.django_db
NONCE = "0123456789abcdef0123456789abcdef"
START = 49000  # client A in the web world: 500.00 topped up, 10.00 charged for the service


@pytest.fixture
def m(web: WebWorld) -> MoneyWorld:
    return money_world(web)


def money_state() -> dict[str, Any]:
    """Every row of the payments, invoicing and ledger tables: equal when nothing changed."""
    state: dict[str, Any] = {}
    for label in ("payments", "invoicing", "ledger"):
        for model in apps.get_app_config(label).get_models():
            state[model._meta.db_table] = sorted(map(repr, model.objects.values_list()))
    return state


def topup(web: WebWorld, method: int, amount: str, nonce: str = NONCE, **extra: str) -> Any:
    data = {"currency": "USD", "amount": amount, "method": str(method), "nonce": nonce, **extra}
    return web.a.http.post("/billing/top-up/", data)


def new_payments(m: MoneyWorld) -> list[Payment]:
    return list(Payment.objects.exclude(pk=m.payment.pk).order_by("id"))


# -- the top-up form --------------------------------------------------------------------------


def test_the_form_lists_the_methods_the_last_used_first_and_preselected(
    web: WebWorld, m: MoneyWorld
) -> None:
    # given: sandbox sorts first, but the client's latest paid payment went through the bank
    page = web.a.http.get("/billing/top-up/").content.decode()
    assert page.index("Card (sandbox)") < page.index("Bank transfer")
    assert re.search(rf'value="{m.sandbox.pk}"[^>]*checked', page)
    actions.mark_payment_paid(payment=m.payment)
    # when the form is shown again
    page = web.a.http.get("/billing/top-up/").content.decode()
    # then the bank comes first and is preselected
    assert page.index("Bank transfer") < page.index("Card (sandbox)")
    assert re.search(rf'value="{m.bank.pk}"[^>]*checked', page)
    assert not re.search(rf'value="{m.sandbox.pk}"[^>]*checked', page)
    assert re.search(r'name="nonce" value="[0-9a-f]{32}"', page)
    assert 'aria-current="page">Top up</a>' in page


def test_the_preview_shows_amount_commission_and_total(web: WebWorld, m: MoneyWorld) -> None:
    # when the payer types 100.00 with the sandbox method (2.9 % + 0.30)
    url = f"/billing/top-up/preview/?currency=USD&amount=100.00&method={m.sandbox.pk}"
    html = web.a.http.get(url, HTTP_HX_REQUEST="true").content.decode()
    # then: 100.00 + (0.30 + 2.90) = 103.20, the save box, one-click with the saved card
    assert '<td class="num" id="q-amount">$100.00</td>' in html
    assert '<td class="num" id="q-commission">$3.20</td>' in html
    assert '<strong id="q-total">$103.20</strong>' in html
    assert 'name="save_method"' in html
    assert "Pay $103.20 with Visa •••• 4242" in html
    assert f'formaction="/billing/top-up/saved/{m.saved.pk}/"' in html
    # the bank (0.50 fixed) cannot save a method
    url = f"/billing/top-up/preview/?currency=USD&amount=20.00&method={m.bank.pk}"
    html = web.a.http.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert '<strong id="q-total">$20.50</strong>' in html
    assert 'name="save_method"' not in html
    # below the sandbox minimum of 5.00: a warning before paying
    url = f"/billing/top-up/preview/?currency=USD&amount=1&method={m.sandbox.pk}"
    html = web.a.http.get(url).content.decode()
    assert "The minimum for this method is $5.00." in html


def test_top_up_with_the_sandbox_makes_one_payment_and_goes_to_its_page(
    web: WebWorld, m: MoneyWorld
) -> None:
    # when the owner tops up 100.00 through the sandbox and asks to save the card
    response = topup(web, m.sandbox.pk, "100.00", save_method="on")
    # then exactly one payment with the exact commission, started at the gateway
    (payment,) = new_payments(m)
    assert response.status_code == 302
    assert response["Location"] == payment.redirect_url
    assert payment.redirect_url.startswith(f"/pay/sandbox/{payment.pk}/")
    assert (payment.amount_minor, payment.commission_minor, payment.total_minor) == (
        10000,
        320,
        10320,
    )
    assert (payment.currency, payment.status, payment.purpose) == ("USD", "pending", "topup")
    assert payment.idempotency_key == f"web-topup:{web.a.client.pk}:{NONCE}"
    assert payment.return_url == f"http://testserver/billing/payments/{payment.pk}/"
    assert payment.save_method is True
    assert payment.method_id == m.sandbox.pk
    assert web.world.balance(web.a.client) == START


def test_paying_on_the_sandbox_page_credits_the_balance(web: WebWorld, m: MoneyWorld) -> None:
    # given a started sandbox top-up of 100.00 with the card to be saved
    page = topup(web, m.sandbox.pk, "100.00", save_method="on")["Location"]
    # when the payer succeeds on the sandbox page
    back = web.a.http.post(page, {"choice": "succeed"})
    # then they come back to the payment page, paid, and the balance got the amount
    (payment,) = new_payments(m)
    assert back["Location"] == f"http://testserver/billing/payments/{payment.pk}/"
    assert payment.status == PaymentStatus.PAID
    assert web.world.balance(web.a.client) == START + 10000
    html = web.a.http.get(f"/billing/payments/{payment.pk}/").content.decode()
    assert '<span class="pill s-paid" id="status">Paid</span>' in html
    assert '<dd id="total"><strong>$103.20</strong></dd>' in html
    # the card is saved and, the client having no default yet, becomes the default
    saved = SavedPaymentMethod.objects.filter(client=web.a.client).order_by("id")
    assert list(saved.values_list("label", "is_default")) == [
        ("Visa •••• 4242", False),
        ("Sandbox card •••• 4242", True),
    ]


def test_a_double_submit_with_the_same_nonce_makes_one_payment(
    web: WebWorld, m: MoneyWorld
) -> None:
    first = topup(web, m.sandbox.pk, "100.00")
    second = topup(web, m.sandbox.pk, "100.00")
    (payment,) = new_payments(m)
    assert first["Location"] == second["Location"] == payment.redirect_url
    # the same nonce with another amount is refused and writes nothing
    before = money_state()
    third = topup(web, m.sandbox.pk, "200.00")
    assert third.status_code == 200
    assert "(idempotency_key_reused)" in third.content.decode()
    assert money_state() == before
    # the refused page carries a new nonce: submitting it again is a new payment
    nonce = re.search(r'name="nonce" value="([0-9a-f]{32})"', third.content.decode())
    assert nonce is not None and nonce.group(1) != NONCE
    topup(web, m.sandbox.pk, "200.00", nonce=nonce.group(1))
    assert [p.amount_minor for p in new_payments(m)] == [10000, 20000]


def test_without_a_payment_method_the_page_says_so(web: WebWorld) -> None:
    html = web.a.http.get("/billing/top-up/").content.decode()
    assert "No payment method is available to your account." in html
    assert 'id="topup-form"' not in html


def test_an_amount_below_the_minimum_is_refused_and_nothing_is_written(
    web: WebWorld, m: MoneyWorld
) -> None:
    before = money_state()
    response = topup(web, m.sandbox.pk, "4.99")
    html = response.content.decode()
    assert response.status_code == 200
    assert (
        '<p class="msg error" role="alert">the amount is below this method&#x27;s minimum '
        "(amount_below_minimum)</p>"
    ) in html
    assert 'value="4.99"' in html
    assert money_state() == before


@pytest.mark.parametrize(
    ("amount", "error"),
    [("1.001", "USD amounts have at most 2 decimals."), ("", "This field is required.")],
)
def test_an_unreadable_amount_is_a_form_error(
    web: WebWorld, m: MoneyWorld, amount: str, error: str
) -> None:
    before = money_state()
    response = topup(web, m.sandbox.pk, amount)
    assert error in response.content.decode()
    assert money_state() == before


def test_a_method_of_another_currency_or_provider_is_refused(web: WebWorld, m: MoneyWorld) -> None:
    # given a EUR method of the client's provider and a method of a provider of others
    euro = make_method(web.world.provider, "bank_transfer", name="SEPA", currency="EUR")
    elsewhere = make_method(World().provider, "bank_transfer", name="Elsewhere")
    # the form offers both currencies, and for EUR only the EUR method
    html = web.a.http.get("/billing/top-up/?currency=EUR").content.decode()
    assert '<option value="EUR" selected>EUR</option><option value="USD">USD</option>' in html
    assert ("SEPA" in html, "Card (sandbox)" in html, "Elsewhere" in html) == (True, False, False)
    # neither the EUR method for USD nor the other provider's method is accepted
    before = money_state()
    for method in (euro, elsewhere):
        response = topup(web, method.pk, "10.00")
        assert "Select a valid choice." in response.content.decode()
    assert money_state() == before


def test_a_bank_transfer_shows_the_instructions(web: WebWorld, m: MoneyWorld) -> None:
    response = topup(web, m.bank.pk, "20.00")
    (payment,) = new_payments(m)
    assert response["Location"] == f"/billing/payments/{payment.pk}/"
    html = web.a.http.get(response["Location"]).content.decode()
    assert (
        f'<p class="pre" id="instructions">Transfer 20.50 USD quoting the reference '
        f"BT-{payment.pk}.\nIBAN DE00 1234</p>"
    ) in html
    assert '<dd id="commission">$0.50</dd>' in html
    assert '<span class="pill s-pending" id="status">Pending</span>' in html


def test_the_currency_switch_reloads_the_form_for_htmx(web: WebWorld, m: MoneyWorld) -> None:
    html = web.a.http.get("/billing/top-up/?currency=USD&amount=10", HTTP_HX_REQUEST="true")
    text = html.content.decode()
    assert text.startswith('<form id="topup-form"')
    assert '<strong id="q-total">$10.59</strong>' in text  # 0.30 + 0.29
    # switching before an amount is typed shows no errors
    html = web.a.http.get("/billing/top-up/?currency=USD&amount=", HTTP_HX_REQUEST="true")
    assert 'class="error"' not in html.content.decode()
    assert "Enter an amount to see the commission" in html.content.decode()


# -- one-click payment ------------------------------------------------------------------------


def test_one_click_pays_at_once_from_the_saved_method(web: WebWorld, m: MoneyWorld) -> None:
    data = {"currency": "USD", "amount": "100.00", "nonce": NONCE, "method": str(m.bank.pk)}
    response = web.a.http.post(f"/billing/top-up/saved/{m.saved.pk}/", data)
    again = web.a.http.post(f"/billing/top-up/saved/{m.saved.pk}/", data)
    (payment,) = new_payments(m)
    assert response["Location"] == again["Location"] == f"/billing/payments/{payment.pk}/"
    assert (payment.status, payment.saved_method_id, payment.method_id) == (
        PaymentStatus.PAID,
        m.saved.pk,
        m.sandbox.pk,
    )
    assert (payment.amount_minor, payment.commission_minor) == (10000, 320)
    assert payment.idempotency_key == f"web-oneclick:{web.a.client.pk}:{NONCE}"
    assert web.world.balance(web.a.client) == START + 10000
    html = web.a.http.get(response["Location"]).content.decode()
    assert "The payment was received. Thank you!" in html


def test_one_click_with_a_declined_card_shows_the_reason(web: WebWorld, m: MoneyWorld) -> None:
    SavedPaymentMethod.objects.filter(pk=m.saved.pk).update(gateway_token="sbxtok_decline")
    data = {"currency": "USD", "amount": "10.00", "nonce": NONCE}
    response = web.a.http.post(f"/billing/top-up/saved/{m.saved.pk}/", data, follow=True)
    (payment,) = new_payments(m)
    assert (payment.status, payment.failure_code) == (PaymentStatus.FAILED, "card_declined")
    assert "The payment was declined (card_declined)." in response.content.decode()
    assert web.world.balance(web.a.client) == START


def test_one_click_below_the_minimum_is_refused(web: WebWorld, m: MoneyWorld) -> None:
    before = money_state()
    data = {"currency": "USD", "amount": "1.00", "nonce": NONCE}
    response = web.a.http.post(f"/billing/top-up/saved/{m.saved.pk}/", data, follow=True)
    assert "(amount_below_minimum)" in response.content.decode()
    assert money_state() == before


# -- payments ---------------------------------------------------------------------------------


def test_payments_list_and_detail_with_order_link_and_refunds(web: WebWorld, m: MoneyWorld) -> None:
    # given a paid order payment of 30.00 with 5.00 refunded to the balance
    order = actions.create_payment(
        client=web.a.client, amount=Money(3000, "USD"), method=m.bank, reference="order:12"
    )
    actions.mark_payment_paid(payment=order)
    actions.refund_payment(
        payment=order,
        idempotency_key="r1",
        amount=Money(500, "USD"),
        destination="balance",
        reason="goodwill",
    )
    # the list: newest first, the order reference a link
    html = web.a.http.get("/billing/payments/").content.decode()
    assert html.index(f"#{order.pk}") < html.index(f"#{m.payment.pk}")
    assert '<a href="/orders/12/">order:12</a>' in html
    assert '<td data-label="Total" class="num">$30.50</td>' in html
    # the detail
    html = web.a.http.get(f"/billing/payments/{order.pk}/").content.decode()
    assert '<dd id="amount">$30.00</dd>' in html
    assert '<dd id="commission">$0.50</dd>' in html
    assert '<dd id="reference"><a href="/orders/12/">order:12</a></dd>' in html
    assert "Refunds" in html
    assert "goodwill" in html
    assert '<td data-label="Amount" class="num">$5.00</td>' in html
    assert '<span class="pill s-succeeded">Succeeded</span>' in html
    assert "How to pay" not in html  # paid: no instructions


# -- invoices ---------------------------------------------------------------------------------


def test_invoices_list_detail_and_pdf(web: WebWorld, m: MoneyWorld) -> None:
    issue_credit_note(invoice=m.invoice, amount_minor=190, reason="tax fix", now=T_INVOICE)
    other = issue_invoice(
        provider=web.world.provider,
        client=web.b.client,
        currency="USD",
        lines=[invoice_line(5000, 950)],
        now=T_INVOICE,
    )
    # the list shows A's invoice only
    html = web.a.http.get("/billing/invoices/").content.decode()
    assert "INV-2027-000001" in html
    assert other.display_number not in html
    assert '<td data-label="Total" class="num">$11.90</td>' in html
    # the detail: lines, tax, total, status, credit notes
    html = web.a.http.get(f"/billing/invoices/{m.invoice.pk}/").content.decode()
    assert '<dd class="num" id="subtotal">$10.00</dd>' in html
    assert '<dd class="num" id="tax">$1.90</dd>' in html
    assert '<dd class="num" id="total"><strong>$11.90</strong></dd>' in html
    assert '<span class="pill s-issued" id="status">Issued</span>' in html
    assert "VPS S (1m)" in html
    assert "CN-2027-000001" in html
    assert "tax fix" in html
    # the PDF
    response = web.a.http.get(f"/billing/invoices/{m.invoice.pk}/pdf/")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="INV-2027-000001.pdf"'
    assert response.content[:5] == b"%PDF-"
    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "INV-2027-000001" in text
    assert "11.90 USD" in text


# -- saved methods ----------------------------------------------------------------------------


def test_make_default_set_and_clear_the_auto_maximum_and_remove(
    web: WebWorld, m: MoneyWorld
) -> None:
    second = SavedPaymentMethod.objects.create(
        client=web.a.client,
        method=m.sandbox,
        gateway_token="sbxtok_2",
        label="Mastercard 5555",
        is_default=True,
    )
    html = web.a.http.get("/billing/methods/").content.decode()
    assert html.index("Mastercard 5555") < html.index("Visa •••• 4242")  # the default first
    assert "never charging more than the maximum you set" in html
    # make the Visa the default
    web.a.http.post(f"/billing/methods/{m.saved.pk}/default/")
    defaults = SavedPaymentMethod.objects.filter(client=web.a.client, is_default=True)
    assert list(defaults.values_list("pk", flat=True)) == [m.saved.pk]
    # set the auto-payment maximum to 150.00, then clear it
    url = f"/billing/methods/{m.saved.pk}/auto-payment/"
    page = web.a.http.post(url, {"maximum": "150.00"}, follow=True).content.decode()
    m.saved.refresh_from_db()
    assert m.saved.auto_payment_max_minor == 15000
    assert "Auto-payment from Visa •••• 4242: at most $150.00 per payment." in page
    assert 'value="150.00"' in page
    web.a.http.post(url, {"maximum": "150.00", "clear": "1"})
    m.saved.refresh_from_db()
    assert m.saved.auto_payment_max_minor is None
    # remove the second one
    removed = web.a.http.post(f"/billing/methods/{second.pk}/remove/", follow=True)
    assert "Mastercard 5555 was removed." in removed.content.decode()
    second.refresh_from_db()
    assert (second.is_active, second.is_default) == (False, False)
    html = web.a.http.get("/billing/methods/").content.decode()
    assert "Mastercard 5555" not in html
    # a removed method is gone for good
    assert web.a.http.post(f"/billing/methods/{second.pk}/default/").status_code == 404


@pytest.mark.parametrize(
    ("value", "shown"),
    [("-5", "(invalid_amount)"), ("0", "(invalid_amount)"), ("1.234", "at most 2 decimals")],
)
def test_a_bad_auto_maximum_is_refused_and_nothing_changes(
    web: WebWorld, m: MoneyWorld, value: str, shown: str
) -> None:
    SavedPaymentMethod.objects.filter(pk=m.saved.pk).update(auto_payment_max_minor=1000)
    before = money_state()
    url = f"/billing/methods/{m.saved.pk}/auto-payment/"
    page = web.a.http.post(url, {"maximum": value}, follow=True).content.decode()
    assert shown in page
    assert money_state() == before


# -- another client ---------------------------------------------------------------------------


def test_another_client_gets_404_for_every_money_object(web: WebWorld, m: MoneyWorld) -> None:
    gets = [
        f"/billing/payments/{m.payment.pk}/",
        f"/billing/invoices/{m.invoice.pk}/",
        f"/billing/invoices/{m.invoice.pk}/pdf/",
    ]
    posts = [
        (
            f"/billing/top-up/saved/{m.saved.pk}/",
            {"currency": "USD", "amount": "10.00", "nonce": NONCE},
        ),
        (f"/billing/methods/{m.saved.pk}/default/", {}),
        (f"/billing/methods/{m.saved.pk}/auto-payment/", {"maximum": "99"}),
        (f"/billing/methods/{m.saved.pk}/remove/", {}),
    ]
    before = money_state()
    assert [web.b.http.get(url).status_code for url in gets] == [404, 404, 404]
    assert [web.b.http.post(url, data).status_code for url, data in posts] == [404] * 4
    assert money_state() == before
    assert "INV-2027" not in web.b.http.get("/billing/invoices/").content.decode()
    assert f"#{m.payment.pk}<" not in web.b.http.get("/billing/payments/").content.decode()
    assert "Visa" not in web.b.http.get("/billing/methods/").content.decode()


def test_the_statement_has_the_billing_sub_navigation(web: WebWorld) -> None:
    html = web.a.http.get("/billing/").content.decode()
    assert '<a href="/billing/" aria-current="page">Statement</a>' in html
    for url in (
        "/billing/payments/",
        "/billing/invoices/",
        "/billing/top-up/",
        "/billing/methods/",
    ):
        assert f'<a href="{url}">' in html


def test_balance_accounts_are_untouched_by_page_views(web: WebWorld, m: MoneyWorld) -> None:
    before = sorted(LedgerAccount.objects.values_list("id", "balance_minor"))
    for url in (
        "/billing/top-up/",
        "/billing/payments/",
        "/billing/invoices/",
        "/billing/methods/",
        "/billing/top-up/preview/",
    ):
        assert web.a.http.get(url).status_code == 200
    assert sorted(LedgerAccount.objects.values_list("id", "balance_minor")) == before
