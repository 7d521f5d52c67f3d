"""Money objects of the client-area world (tests/web/conftest.py): payment methods of the
provider, and for client A one payment, one invoice and one saved method (the object pages of
tests/web/test_money.py and tests/web/test_access.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from billow.core.money import Money
from billow.invoicing.actions import InvoiceLineInput, issue_invoice
from billow.invoicing.models import Invoice
from billow.payments import actions
from billow.payments.models import Payment, PaymentMethod, SavedPaymentMethod
from tests.payments.conftest import SANDBOX_SECRET, make_method
from tests.web.conftest import WebWorld

T_INVOICE = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)


@dataclass
class MoneyWorld:
    sandbox: PaymentMethod
    bank: PaymentMethod
    payment: Payment
    invoice: Invoice
    saved: SavedPaymentMethod


def sandbox_method(web: WebWorld) -> PaymentMethod:
    """2.9 % + 0.30 commission, at least 5.00, recurring (one-click) supported."""
    return make_method(
        web.world.provider,
        "sandbox",
        name="Card (sandbox)",
        secrets={"webhook_secret": SANDBOX_SECRET},
        supports_refunds=True,
        supports_recurring=True,
        fee_percent=Decimal("2.9"),
        fee_fixed_minor=30,
        min_amount_minor=500,
        sort=10,
    )


def bank_method(web: WebWorld) -> PaymentMethod:
    """0.50 fixed commission, no recurring."""
    return make_method(
        web.world.provider,
        "bank_transfer",
        name="Bank transfer",
        config={"bank_details": "IBAN DE00 1234"},
        supports_refunds=True,
        fee_fixed_minor=50,
        sort=20,
    )


def invoice_line(net: int, tax: int, description: str = "VPS S (1m)") -> InvoiceLineInput:
    return InvoiceLineInput(description, 1, net, 0, net, Decimal(19), tax, net + tax)


def money_world(web: WebWorld) -> MoneyWorld:
    """Created once per ``web`` world (kept on it)."""
    existing: MoneyWorld | None = getattr(web, "_money", None)
    if existing is not None:
        return existing
    sandbox, bank = sandbox_method(web), bank_method(web)
    a = web.a.client
    payment = actions.create_payment(
        client=a, amount=Money(2000, "USD"), method=bank, idempotency_key="money-world-a"
    )
    invoice = issue_invoice(
        provider=web.world.provider,
        client=a,
        currency="USD",
        lines=[invoice_line(1000, 190)],
        now=T_INVOICE,
    )
    saved = SavedPaymentMethod.objects.create(
        client=a, method=sandbox, gateway_token="sbxtok_ok", label="Visa •••• 4242"
    )
    made = MoneyWorld(sandbox, bank, payment, invoice, saved)
    web._money = made  # type: ignore[attr-defined]
    return made


def money_ids(web: WebWorld) -> dict[str, int]:
    m = money_world(web)
    return {"payment": m.payment.pk, "invoice": m.invoice.pk, "saved": m.saved.pk}


def fill_money(web: WebWorld, text: str) -> str:
    """Replace ``{payment}``, ``{invoice}`` and ``{saved}`` by client A's ids."""
    for key, pk in money_ids(web).items():
        text = text.replace(f"{{{key}}}", str(pk))
    return text
