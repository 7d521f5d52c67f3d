"""Client-area reads of the money pages: top-up options and quotes, payments, invoices, saved
payment methods. Everything is scoped to one client; another client's object is a 404."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.http import Http404
from django.urls import NoReverseMatch, reverse

from billow.accounts.models import Client
from billow.core.errors import BillowError
from billow.invoicing.models import Invoice
from billow.payments.commission import commission_minor
from billow.payments.gateways import gateways
from billow.payments.models import Payment, PaymentMethod, Refund, SavedPaymentMethod
from billow.payments.selectors import (
    list_payment_methods_for_client,
    list_payments_for_client,
    list_saved_methods_for_client,
)
from billow.payments.states import PaymentStatus

#: Payments still waiting for the payer or the gateway (the page offers to continue).
OPEN = frozenset({PaymentStatus.NEW, PaymentStatus.PENDING, PaymentStatus.UNKNOWN})


# -- top-up -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TopupOptions:
    """What the top-up form offers: the currencies of the client's usable methods, the chosen
    currency, its methods (the one used last first) and its one-click saved methods."""

    currencies: list[str]
    currency: str
    methods: list[PaymentMethod]
    saved: list[SavedPaymentMethod] = field(default_factory=list)


def list_topup_methods(client: Client) -> list[PaymentMethod]:
    """Every active method of the client's providers the client may use; per provider in the
    payments order (last used first), and the method of the client's latest paid payment
    before all others."""
    methods: list[PaymentMethod] = []
    for provider_id in client.providers.order_by("id").values_list("id", flat=True):
        methods += list_payment_methods_for_client(client, provider_id)
    last = (
        Payment.objects.filter(client=client, status=PaymentStatus.PAID)
        .order_by("-paid_at", "-id")
        .values_list("method_id", flat=True)
        .first()
    )
    return sorted(methods, key=lambda m: m.pk != last)  # stable: the order within stays


def supports_one_click(method: PaymentMethod) -> bool:
    """True when the method and its gateway can charge a saved method (and save one)."""
    if not method.supports_recurring:
        return False
    try:
        return gateways.get(method.gateway).supports_recurring
    except BillowError:  # an unregistered gateway key
        return False


def get_topup_options(client: Client, *, currency: str = "") -> TopupOptions:
    """The options for ``currency`` (when the client has a method for it), else for the
    currency of the method shown first."""
    methods = list_topup_methods(client)
    currencies = sorted({m.currency for m in methods})
    if currency not in currencies:
        currency = methods[0].currency if methods else ""
    saved = [
        s
        for s in list_saved_methods_for_client(client)
        if s.method.currency == currency and s.method.is_active and supports_one_click(s.method)
    ]
    return TopupOptions(
        currencies=currencies,
        currency=currency,
        methods=[m for m in methods if m.currency == currency],
        saved=saved,
    )


@dataclass(frozen=True, slots=True)
class Quote:
    """What a payment of ``amount_minor`` through ``method`` costs the payer (pure)."""

    method: PaymentMethod
    amount_minor: int
    commission_minor: int
    total_minor: int
    below_minimum: bool
    above_maximum: bool


def quote_payment(method: PaymentMethod, amount_minor: int) -> Quote:
    """Amount + commission (exactly as ``create_payment`` will compute it) = total to pay."""
    fee = commission_minor(
        amount_minor, fixed_minor=method.fee_fixed_minor, percent=method.fee_percent
    )
    maximum = method.maximum_minor
    return Quote(
        method=method,
        amount_minor=amount_minor,
        commission_minor=fee,
        total_minor=amount_minor + fee,
        below_minimum=amount_minor < method.min_amount_minor,
        above_maximum=amount_minor > maximum,
    )


# -- payments ---------------------------------------------------------------------------------


def list_payments(client: Client) -> QuerySet[Payment]:
    return list_payments_for_client(client)


def get_payment(client: Client, pk: int) -> Payment:
    """The client's payment ``pk`` (404 for a missing one or another client's)."""
    try:
        return Payment.objects.select_related("method", "saved_method").get(pk=pk, client=client)
    except Payment.DoesNotExist:
        raise Http404("no such payment") from None


def list_refunds(payment: Payment) -> list[Refund]:
    return list(payment.refunds.order_by("id"))


def order_url(reference: str) -> str:
    """The client-area page of an ``order:<id>`` reference ("" for any other reference)."""
    kind, _, ident = reference.partition(":")
    if kind != "order" or not ident.isdigit():
        return ""
    try:
        return reverse("web:order_detail", args=[int(ident)])
    except NoReverseMatch:  # the order pages are not mounted (yet)
        return f"/orders/{int(ident)}/"


# -- invoices ---------------------------------------------------------------------------------


def get_invoice(client: Client, pk: int) -> Invoice:
    """The client's invoice ``pk`` with its lines and credit notes (404 for another's)."""
    try:
        return Invoice.objects.prefetch_related("lines", "credit_notes").get(pk=pk, client=client)
    except Invoice.DoesNotExist:
        raise Http404("no such invoice") from None


# -- saved payment methods --------------------------------------------------------------------


def list_saved_methods(client: Client) -> QuerySet[SavedPaymentMethod]:
    """The client's active saved methods, the default first."""
    return list_saved_methods_for_client(client).order_by("-is_default", "id")


def get_saved_method(client: Client, pk: int) -> SavedPaymentMethod:
    """The client's active saved method ``pk`` (404 for a removed one or another client's)."""
    try:
        return list_saved_methods_for_client(client).get(pk=pk)
    except SavedPaymentMethod.DoesNotExist:
        raise Http404("no such saved payment method") from None
