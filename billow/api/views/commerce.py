"""Client endpoints for ordering (quote, cart, checkout, orders), payments (methods, top-ups,
saved methods), invoices and credit notes. Each view parses, calls one action or selector,
renders.

Scopes: ordering is ``services``; payments, saved methods and documents are ``billing``.
Objects of another client are 404; ids in a body that are not the client's are the domain's
refusal codes (``tariff_not_available``, ``payer_not_found``, ``payment_method_not_found`` ...).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from billow.accounts.models import Client, Payer
from billow.accounts.selectors import (
    get_client_scope,
    list_payers_for_client,
    list_provider_ids_for_client,
)
from billow.api import errors, selectors
from billow.api.exceptions import error_body, jsonable_details
from billow.api.idempotency import HEADER, idempotent
from billow.api.serializers import commerce as s
from billow.api.serializers.client import ServiceOut
from billow.api.views.base import ClientView, validated
from billow.catalog.models import Tariff
from billow.core.errors import BillowError
from billow.core.money import Money
from billow.invoicing.pdf import render_credit_note_pdf, render_invoice_pdf
from billow.invoicing.selectors import get_credit_note_for_client, list_documents_for_client
from billow.orders import actions as orders
from billow.orders.errors import OrderError
from billow.orders.models import PAID_FROM_BALANCE, CartItem, Order
from billow.orders.quote import Quote, calculate_quote
from billow.orders.selectors import (
    ItemSpec,
    build_quote_input,
    get_cart_quote,
    get_checkout_defaults,
)
from billow.payments.actions import (
    charge_saved_method,
    create_payment,
    start_payment,
)
from billow.payments.actions.saved_methods import remove_saved_method, update_saved_method
from billow.payments.errors import PaymentError
from billow.payments.models import Payment, PaymentMethod, SavedPaymentMethod
from billow.payments.return_urls import check_return_url
from billow.payments.selectors import (
    client_may_use_method,
    list_payment_methods_for_client,
    list_payments_for_client,
    list_saved_methods_for_client,
)
from billow.services.models import Service

# --- shared lookups ----------------------------------------------------------------------------


class CommerceView(ClientView):
    @property
    def client(self) -> Client:
        return self.client_user.client

    def provider_id(self, given: int | None, items: list[dict[str, Any]] | None = None) -> int:
        """``given`` (one of the client's providers), else the client's only provider, else the
        provider of the first item's tariff."""
        mine = sorted(get_client_scope(self.client).provider_ids)
        if given is None and len(mine) == 1:
            return mine[0]  # an item of another provider is then tariff_not_available
        if given is None and items:
            given = (
                Tariff.objects.filter(pk=items[0]["tariff_id"])
                .values_list("provider_id", flat=True)
                .first()
            )
            if given is None:
                raise OrderError("this tariff cannot be ordered", code="tariff_not_available")
        if given is None:
            raise errors.ProviderRequired("provider_id: the client has several providers")
        if given not in mine:
            raise errors.ProviderNotAvailable("not one of the client's providers")
        return given

    def payer(self, payer_id: int | None) -> Payer | None:
        if payer_id is None:
            return None
        payer = list_payers_for_client(self.client, active_only=True).filter(pk=payer_id).first()
        if payer is None:
            raise PaymentError("no such payer", code="payer_not_found")
        return payer

    def method(self, method_id: int, *, provider_id: int | None = None) -> PaymentMethod:
        """The client's usable method (its providers, active, groups), else
        ``payment_method_not_found`` (another provider's methods do not exist for the client)."""
        providers = [provider_id] if provider_id else list_provider_ids_for_client(self.client_id)
        pm = PaymentMethod.objects.filter(pk=method_id, provider_id__in=providers).first()
        if pm is None or not pm.is_active or not client_may_use_method(self.client, pm):
            raise PaymentError("no such payment method", code="payment_method_not_found")
        return pm

    def saved_method(self, saved_id: int) -> SavedPaymentMethod:
        saved = list_saved_methods_for_client(self.client).filter(pk=saved_id).first()
        if saved is None:
            raise PaymentError("no such saved method", code="saved_method_not_found")
        return saved

    def return_url(self, data: dict[str, Any]) -> str:
        """The request's ``return_url``, refused (``return_url_not_allowed``) unless it is on
        this site or a configured host; asked before anything is written."""
        return check_return_url(data.get("return_url", ""), own_host=self.request.get_host())

    def payment_key(self) -> str:
        """The payments idempotency key of this request: its ``Idempotency-Key`` per user (the
        API replays the response; this makes a concurrent duplicate find the same payment)."""
        raw = f"{self.request.user.pk}:{self.request.headers.get(HEADER, '')}"
        return f"api:{hashlib.sha256(raw.encode()).hexdigest()[:40]}"


def specs(items: list[dict[str, Any]]) -> list[ItemSpec]:
    return [
        ItemSpec(
            f"i{n}", i["tariff_id"], i["period"], i["addon_values"], i["parameters"], i["quick"]
        )
        for n, i in enumerate(items, 1)
    ]


# --- quote, cart, checkout defaults ------------------------------------------------------------


class QuoteView(CommerceView):
    """Price items (or the cart) as checkout would, without ordering: every line with its
    reason, discounts, taxes and totals. Reads only."""

    scope = "services"
    scope_level = "read"

    @extend_schema(request=s.QuoteIn, responses={200: s.QuoteOut})
    def post(self, request: Request) -> Response:
        data = validated(s.QuoteIn, request.data)
        provider_id = self.provider_id(data.get("provider_id"), data.get("items"))
        payer = self.payer(data.get("payer_id"))
        promo = data.get("promo_code", "")
        points = data.get("bonus_points", 0)
        if data["from_cart"]:
            quote = get_cart_quote(
                client=self.client,
                provider_id=provider_id,
                promo_code=promo,
                payer=payer,
                bonus_points=points,
            )
        else:
            quote = calculate_quote(
                build_quote_input(
                    client=self.client,
                    provider_id=provider_id,
                    currency=data["currency"],
                    items=specs(data["items"]),
                    promo_code=promo,
                    payer=payer,
                    bonus_points=points,
                )
            )
        return Response(s.QuoteOut(quote).data)


class CartView(CommerceView):
    scope = "services"

    @extend_schema(parameters=[s.CartFilter], responses=s.CartOut)
    def get(self, request: Request) -> Response:
        f = validated(s.CartFilter, request.query_params)
        provider_id = self.provider_id(f.get("provider_id"))
        items = list(selectors.list_cart_items_for_client(self.client_id, provider_id=provider_id))
        quote: Quote | None = None
        error = None
        if items:
            try:
                quote = get_cart_quote(client=self.client, provider_id=provider_id)
            except BillowError as exc:  # a withdrawn tariff: show the cart and why
                error = error_body(exc.code, exc.message, jsonable_details(exc.details))
        body = {
            "provider_id": provider_id,
            "currency": items[0].cart.currency if items else None,
            "items": items,
            "quote": quote,
            "quote_error": error,
        }
        return Response(s.CartOut(body).data)


class CartItemListView(CommerceView, generics.ListAPIView):
    scope = "services"
    serializer_class = s.CartItemOut
    pagination_class = None

    @extend_schema(parameters=[s.CartFilter])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        f = validated(s.CartFilter, self.request.query_params)
        return selectors.list_cart_items_for_client(
            self.client_id, provider_id=f.get("provider_id")
        )

    @extend_schema(request=s.CartItemIn, responses={201: s.CartItemOut})
    def post(self, request: Request) -> Response:
        data = validated(s.CartItemIn, request.data)
        providers = list_provider_ids_for_client(self.client_id)
        tariff = Tariff.objects.filter(pk=data.pop("tariff_id"), provider_id__in=providers).first()
        if tariff is None:
            raise OrderError("this tariff cannot be ordered", code="tariff_not_available")
        item = orders.add_to_cart(client=self.client, tariff=tariff, actor=self.actor, **data)
        row = selectors.list_cart_items_for_client(self.client_id).get(pk=item.pk)
        return Response(s.CartItemOut(row).data, status=status.HTTP_201_CREATED)


class CartItemDetailView(CommerceView):
    scope = "services"

    @extend_schema(responses={204: None})
    def delete(self, request: Request, cart_item_id: int) -> Response:
        self.get_or_404(CartItem.objects.filter(cart__client_id=self.client_id), pk=cart_item_id)
        orders.remove_cart_item(client=self.client, item_id=cart_item_id, actor=self.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CheckoutDefaultsView(CommerceView):
    """What the shorter checkout preselects (the payer and method of the last paid order)."""

    scope = "services"

    @extend_schema(responses=s.CheckoutDefaultsOut)
    def get(self, request: Request) -> Response:
        defaults = get_checkout_defaults(self.client)
        method = None
        if defaults.payment_method.isdigit():
            method = PaymentMethod.objects.filter(
                pk=int(defaults.payment_method), is_active=True
            ).first()
        from_balance = defaults.payment_method == PAID_FROM_BALANCE
        body = {
            "payer": defaults.payer,
            "payment_method": method,
            "pay_from_balance": from_balance,
            "skip_to_final_step": defaults.skip_to_final_step
            and (method is not None or from_balance),
        }
        return Response(s.CheckoutDefaultsOut(body).data)


# --- orders ------------------------------------------------------------------------------------


class OrdersMixin(CommerceView):
    scope = "services"

    def orders(self) -> QuerySet[Order]:
        return selectors.list_orders_for_client(self.client_id)

    def get_order(self, order_id: int) -> Order:
        return self.get_or_404(self.orders(), pk=order_id)

    def render(self, order: Order, shortfall_minor: int, payment: Payment | None) -> Any:
        order.shortfall_minor = shortfall_minor  # type: ignore[attr-defined]
        order.started_payment = payment  # type: ignore[attr-defined]
        return s.OrderPaymentOut(order).data


class OrderListView(OrdersMixin, generics.ListAPIView):
    serializer_class = s.OrderOut

    @extend_schema(parameters=[s.OrderFilter])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        f = validated(s.OrderFilter, self.request.query_params)
        return selectors.list_orders_for_client(self.client_id, status=f.get("status"))

    @extend_schema(request=s.OrderIn, responses={201: s.OrderPaymentOut})
    @idempotent
    def post(self, request: Request) -> Response:
        """Check out the cart (``from_cart``) or inline ``items`` (a direct order). Paid from the
        balance when it covers the total; otherwise the order waits and, with
        ``payment_method_id``, a payment of the shortfall is started (``payment.redirect_url``)."""
        data = validated(s.OrderIn, request.data)
        return_url = self.return_url(data)
        provider_id = self.provider_id(data.get("provider_id"), data.get("items"))
        payer = self.payer(data.get("payer_id"))
        method_id = data.get("payment_method_id")  # checkout refuses an unusable one first
        result = orders.checkout(
            client=self.client,
            provider_id=provider_id,
            promo_code=data.get("promo_code", ""),
            payer=payer,
            payment_method=str(method_id or ""),
            items=None if data["from_cart"] else specs(data["items"]),
            currency=data.get("currency", ""),
            bonus_points=data.get("bonus_points", 0),
            actor=self.actor,
        )
        if result.payment_refusal is not None:
            # The order is placed and waits for payment; the answer is the refusal, as for a
            # method refused before the order (the client pays from the order later).
            raise result.payment_refusal
        payment = result.payment
        if payment is not None:
            payment = start_payment(payment=payment, return_url=return_url, actor=self.actor)
        order = result.order
        order.checkout_items = result.items  # type: ignore[attr-defined]
        body = self.render(order, result.shortfall.amount_minor, payment)
        return Response(body, status=status.HTTP_201_CREATED)


class OrderDetailView(OrdersMixin):
    @extend_schema(responses=s.OrderOut)
    def get(self, request: Request, order_id: int) -> Response:
        return Response(s.OrderOut(self.get_order(order_id)).data)


class OrderCancelView(OrdersMixin):
    @extend_schema(request=None, responses=s.OrderOut)
    def post(self, request: Request, order_id: int) -> Response:
        orders.cancel_order(order=self.get_order(order_id), actor=self.actor)
        return Response(s.OrderOut(self.get_order(order_id)).data)


class OrderPayView(OrdersMixin):
    """Pay an order awaiting payment: from the balance when it covers the total now, else a new
    payment of the shortfall (a hosted page, or one click with a saved method)."""

    @extend_schema(request=s.OrderPayIn, responses={200: s.OrderPaymentOut})
    @idempotent
    def post(self, request: Request, order_id: int) -> Response:
        order = self.get_order(order_id)
        data = validated(s.OrderPayIn, request.data)
        return_url = self.return_url(data)
        saved = self.saved_method(data["saved_method_id"]) if data.get("saved_method_id") else None
        method = None if saved else self.method(data["payment_method_id"])
        result = orders.pay_order(
            order=order,
            method=method,
            saved_method=saved,
            idempotency_key=self.payment_key(),
            return_url=return_url,
            actor=self.actor,
        )
        payment = result.payment
        if payment is not None and saved is None:
            payment = start_payment(payment=payment, actor=self.actor)
        body = self.render(self.get_order(order_id), result.shortfall.amount_minor, payment)
        return Response(body)


# --- payment methods, payments, saved methods --------------------------------------------------


class PaymentMethodListView(CommerceView):
    scope = "billing"
    pagination_class = None

    @extend_schema(parameters=[s.PaymentMethodFilter], responses=s.PaymentMethodOut(many=True))
    def get(self, request: Request) -> Response:
        f = validated(s.PaymentMethodFilter, request.query_params)
        provider_id = self.provider_id(f.get("provider_id"))
        rows = list_payment_methods_for_client(self.client, provider_id, f.get("currency"))
        return Response(s.PaymentMethodOut(rows, many=True).data)


class PaymentListView(CommerceView, generics.ListAPIView):
    scope = "billing"
    serializer_class = s.PaymentOut

    @extend_schema(parameters=[s.PaymentFilter])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        f = validated(s.PaymentFilter, self.request.query_params)
        rows = list_payments_for_client(self.client)
        if f.get("status"):
            rows = rows.filter(status=f["status"])
        if f.get("purpose"):
            rows = rows.filter(purpose=f["purpose"])
        return rows

    @extend_schema(request=s.TopUpIn, responses={201: s.PaymentOut})
    @idempotent
    def post(self, request: Request) -> Response:
        """Top up the balance: a hosted payment (``redirect_url``) or, with ``saved_method_id``,
        a one-click charge of a saved method."""
        data = validated(s.TopUpIn, request.data)
        return_url = self.return_url(data)
        amount = Money(data["amount_minor"], data["currency"])
        key = self.payment_key()
        if data.get("saved_method_id"):
            saved = self.saved_method(data["saved_method_id"])
            payment = charge_saved_method(
                saved_method=saved, amount=amount, auto=False, idempotency_key=key, actor=self.actor
            )
        else:
            payment = create_payment(
                client=self.client,
                amount=amount,
                method=self.method(data["payment_method_id"]),
                payer=self.payer(data.get("payer_id")),
                idempotency_key=key,
                save_method=data["save_method"],
                return_url=return_url,
                actor=self.actor,
            )
            payment = start_payment(payment=payment, actor=self.actor)
        return Response(s.PaymentOut(payment).data, status=status.HTTP_201_CREATED)


class PaymentDetailView(CommerceView):
    scope = "billing"

    @extend_schema(responses=s.PaymentOut)
    def get(self, request: Request, payment_id: int) -> Response:
        payment = self.get_or_404(list_payments_for_client(self.client), pk=payment_id)
        return Response(s.PaymentOut(payment).data)


class SavedMethodListView(CommerceView):
    scope = "billing"
    pagination_class = None

    @extend_schema(responses=s.SavedMethodOut(many=True))
    def get(self, request: Request) -> Response:
        rows = list_saved_methods_for_client(self.client)
        return Response(s.SavedMethodOut(rows, many=True).data)


class SavedMethodDetailView(CommerceView):
    scope = "billing"

    def get_saved(self, saved_method_id: int) -> SavedPaymentMethod:
        rows = list_saved_methods_for_client(self.client)
        return self.get_or_404(rows, pk=saved_method_id)

    @extend_schema(request=s.SavedMethodPatchIn, responses=s.SavedMethodOut)
    def patch(self, request: Request, saved_method_id: int) -> Response:
        saved = self.get_saved(saved_method_id)
        data = validated(s.SavedMethodPatchIn, request.data)
        update_saved_method(client=self.client, saved_method=saved, actor=self.actor, **data)
        return Response(s.SavedMethodOut(self.get_saved(saved_method_id)).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, saved_method_id: int) -> Response:
        saved = self.get_saved(saved_method_id)
        remove_saved_method(client=self.client, saved_method=saved, actor=self.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- invoices and credit notes ------------------------------------------------------------------


def _pdf(content: bytes, number: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{number}.pdf"'
    return response


PDF_RESPONSE = {(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, "The PDF")}


class InvoicesMixin(CommerceView):
    scope = "billing"

    def get_invoice(self, invoice_id: int) -> Any:
        rows = selectors.list_invoices_for_client(self.client_id).prefetch_related("lines")
        return self.get_or_404(rows, pk=invoice_id)

    def get_credit_note(self, credit_note_id: int) -> Any:
        note = get_credit_note_for_client(self.client_id, credit_note_id)
        if note is None:
            raise Http404
        return note


class DocumentListView(InvoicesMixin, generics.ListAPIView):
    """The client's invoices and credit notes together, newest first."""

    serializer_class = s.DocumentOut

    @extend_schema(parameters=[s.DocumentListFilter])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> Any:
        f = validated(s.DocumentListFilter, self.request.query_params)
        return list_documents_for_client(
            self.client_id,
            date_from=f.get("date_from"),
            date_to=f.get("date_to"),
            status=f.get("status"),
            kind=f.get("kind"),
        )


class InvoiceListView(InvoicesMixin, generics.ListAPIView):
    serializer_class = s.InvoiceOut

    @extend_schema(parameters=[s.InvoiceFilter])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        f = validated(s.InvoiceFilter, self.request.query_params)
        return selectors.list_invoices_for_client(
            self.client_id,
            status=f.get("status"),
            date_from=f.get("date_from"),
            date_to=f.get("date_to"),
        )


class InvoiceDetailView(InvoicesMixin):
    @extend_schema(responses=s.InvoiceDetailOut)
    def get(self, request: Request, invoice_id: int) -> Response:
        return Response(s.InvoiceDetailOut(self.get_invoice(invoice_id)).data)


class InvoicePdfView(InvoicesMixin):
    @extend_schema(responses=PDF_RESPONSE)
    def get(self, request: Request, invoice_id: int) -> HttpResponse:
        invoice = self.get_invoice(invoice_id)
        return _pdf(render_invoice_pdf(invoice), invoice.display_number)


class CreditNoteDetailView(InvoicesMixin):
    @extend_schema(responses=s.CreditNoteOut)
    def get(self, request: Request, credit_note_id: int) -> Response:
        return Response(s.CreditNoteOut(self.get_credit_note(credit_note_id)).data)


class CreditNotePdfView(InvoicesMixin):
    @extend_schema(responses=PDF_RESPONSE)
    def get(self, request: Request, credit_note_id: int) -> HttpResponse:
        note = self.get_credit_note(credit_note_id)
        return _pdf(render_credit_note_pdf(note), note.display_number)


# --- quick-ordered services ------------------------------------------------------------------


class ConfigureServiceView(CommerceView):
    """Give a quick-ordered service (``configuration_required``) its parameters; it opens."""

    scope = "services"

    @extend_schema(request=s.ConfigureIn, responses=ServiceOut)
    def post(self, request: Request, service_id: int) -> Response:
        rows = selectors.list_services_for_client(self.client_id)
        service: Service = self.get_or_404(rows, pk=service_id)
        data = validated(s.ConfigureIn, request.data)
        orders.configure_quick_service(
            service=service, parameters=data["parameters"], actor=self.actor
        )
        return Response(ServiceOut(self.get_or_404(rows, pk=service_id)).data)
