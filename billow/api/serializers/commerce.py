"""Input and output serializers of the ordering, payment and invoice endpoints. They parse and
render only: prices come from ``orders.quote``, every rule from the actions the views call."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billow.api.fields import (
    MONEY_SCHEMA,
    AddonValuesField,
    MoneyField,
    currency_field,
    money,
    period_field,
)
from billow.api.serializers.base import Serializer
from billow.api.serializers.client import PayerOut
from billow.core.money import MAX_MINOR, Money
from billow.invoicing.models import DocumentKind, InvoiceStatus
from billow.orders.models import OrderStatus
from billow.payments.models import PaymentPurpose, RefundDestination, RefundStatus
from billow.payments.states import PaymentStatus

ID = {"min_value": 1, "max_value": 2**62}
MAX_ITEMS = 20
PROMO_CODE = {"max_length": 50, "required": False, "allow_blank": True}
RETURN_URL = {"max_length": 2000, "required": False, "allow_blank": True}
PARAMETERS_SCHEMA = {
    "type": "object",
    "additionalProperties": {"type": "string", "maxLength": 100},
    "maxProperties": 50,
}


@extend_schema_field(MONEY_SCHEMA)
class MoneyValueField(serializers.Field):
    """Read-only money from a ``core.money.Money`` value (quotes)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Money) -> dict[str, Any]:
        return money(value.amount_minor, value.currency)


@extend_schema_field({**MONEY_SCHEMA, "nullable": True})
class OptionalMoneyField(serializers.Field):
    """``MoneyField`` that renders ``null`` when the amount attribute is None (no maximum)."""

    def __init__(self, *, amount: str, currency: str = "currency", **kwargs: Any) -> None:
        self.amount_attr, self.currency_attr = amount, currency
        kwargs["source"] = "*"
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> dict[str, Any] | None:
        amount = getattr(value, self.amount_attr)
        return None if amount is None else money(amount, getattr(value, self.currency_attr))


@extend_schema_field(PARAMETERS_SCHEMA)
class ParametersField(serializers.DictField):
    """Order parameters by name (``{"os": "debian-12"}``), at most 50 names of 50 characters."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=serializers.CharField(max_length=100), **kwargs)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        values = super().to_internal_value(data)
        if len(values) > 50 or any(len(name) > 50 for name in values):
            raise serializers.ValidationError("at most 50 parameters, names of 50 characters")
        return dict(values)


# --- quote ---------------------------------------------------------------------------------


class ItemIn(Serializer):
    tariff_id = serializers.IntegerField(**ID)
    period = period_field()
    addon_values = AddonValuesField(required=False, default=dict)
    parameters = ParametersField(required=False, default=dict)
    quick = serializers.BooleanField(
        required=False, default=False, help_text="Configure later (services/{id}/configure/)."
    )


class _OrderSource(Serializer):
    """Inline ``items`` in ``currency`` (a direct order) or ``from_cart`` (the cart of
    ``provider_id``); ``provider_id`` defaults to the client's only provider, else to the
    provider of the first item's tariff."""

    from_cart = serializers.BooleanField(required=False, default=False)
    provider_id = serializers.IntegerField(required=False, **ID)
    currency = currency_field(required=False)
    items = ItemIn(many=True, required=False, max_length=MAX_ITEMS)
    promo_code = serializers.CharField(**PROMO_CODE)
    payer_id = serializers.IntegerField(required=False, allow_null=True, **ID)
    bonus_points = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=0,
        min_value=0,
        max_value=2**62,
        help_text="Bonus points to pay part of the total with: 0 none (default), null as many "
        "as the program allows (the balance of points and its maximum share of an order).",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["from_cart"]:
            if attrs.get("items") is not None or attrs.get("currency"):
                raise serializers.ValidationError("from_cart takes neither items nor currency")
        else:
            if not attrs.get("items"):
                raise serializers.ValidationError({"items": "items (or from_cart: true)"})
            if not attrs.get("currency"):
                raise serializers.ValidationError({"currency": "required with items"})
        return attrs


class QuoteIn(_OrderSource):
    pass


class QuoteLineOut(Serializer):
    item = serializers.CharField(source="item_key", help_text="i1, i2 ... (cart: i<cart_item_id>)")
    kind = serializers.CharField()
    code = serializers.CharField(allow_blank=True)
    description = serializers.CharField(allow_blank=True)
    quantity = serializers.IntegerField()
    unit_price = MoneyValueField()
    gross = MoneyValueField()
    discount = MoneyValueField()
    net = MoneyValueField()
    tax = MoneyValueField()
    tax_added = MoneyValueField()
    tax_rate = serializers.DecimalField(max_digits=7, decimal_places=3, coerce_to_string=True)
    total = MoneyValueField()
    reason = serializers.CharField(allow_blank=True)
    discount_reasons = serializers.ListField(child=serializers.CharField())


class TaxLineOut(Serializer):
    rule_id = serializers.IntegerField()
    name = serializers.CharField()
    rate = serializers.DecimalField(max_digits=7, decimal_places=3, coerce_to_string=True)
    included = serializers.BooleanField()
    amount = MoneyValueField()


class AppliedPromotionOut(Serializer):
    promotion_id = serializers.IntegerField()
    code = serializers.CharField(allow_blank=True)
    amount = MoneyValueField()


class QuoteOut(Serializer):
    """A ``orders.quote.Quote``: every line with the reason of its price, then the totals."""

    currency = serializers.CharField()
    lines = QuoteLineOut(many=True)
    tax_lines = TaxLineOut(many=True)
    promotions = AppliedPromotionOut(many=True)
    subtotal = MoneyValueField()
    discount = MoneyValueField()
    net = MoneyValueField()
    tax = MoneyValueField()
    total = MoneyValueField()
    bonus = MoneyValueField(help_text="Paid with bonus points.")
    amount_due = MoneyValueField()
    bonus_points = serializers.IntegerField(help_text="Points that pay ``bonus``.")
    earn_points = serializers.IntegerField(help_text="Points this order will earn.")


# --- cart ----------------------------------------------------------------------------------


class CartFilter(Serializer):
    provider_id = serializers.IntegerField(required=False, **ID)


class CartItemIn(ItemIn):
    currency = currency_field()


class CartItemOut(Serializer):
    id = serializers.IntegerField()
    provider_id = serializers.IntegerField(source="cart.provider_id")
    currency = serializers.CharField(source="cart.currency")
    tariff_id = serializers.IntegerField()
    tariff_name = serializers.CharField(source="tariff.name")
    period = serializers.CharField()
    addon_values = serializers.DictField()
    parameters = serializers.DictField()
    quick = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class ErrorOut(Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.DictField()


class CartOut(Serializer):
    provider_id = serializers.IntegerField()
    currency = serializers.CharField(allow_null=True)
    items = CartItemOut(many=True)
    quote = QuoteOut(allow_null=True)
    quote_error = ErrorOut(
        allow_null=True, help_text="Why the cart cannot be priced now (e.g. a tariff withdrawn)."
    )


# --- payment methods, checkout defaults ------------------------------------------------------


class PaymentMethodFilter(Serializer):
    provider_id = serializers.IntegerField(required=False, **ID)
    currency = currency_field(required=False)


class PaymentMethodOut(Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    gateway = serializers.CharField()
    provider_id = serializers.IntegerField()
    currency = serializers.CharField()
    fee_fixed = MoneyField(amount="fee_fixed_minor")
    fee_percent = serializers.DecimalField(max_digits=7, decimal_places=4, coerce_to_string=True)
    min_amount = MoneyField(amount="min_amount_minor")
    max_amount = OptionalMoneyField(amount="max_amount_minor")
    supports_recurring = serializers.BooleanField()


class CheckoutDefaultsOut(Serializer):
    payer = PayerOut(allow_null=True)
    payment_method = PaymentMethodOut(allow_null=True)
    pay_from_balance = serializers.BooleanField(help_text="The last order was paid from it.")
    skip_to_final_step = serializers.BooleanField()


# --- orders ----------------------------------------------------------------------------------


class OrderIn(_OrderSource):
    payment_method_id = serializers.IntegerField(
        required=False, allow_null=True, help_text="Pays a shortfall; none: the order waits.", **ID
    )
    return_url = serializers.URLField(**RETURN_URL)


class OrderFilter(Serializer):
    status = serializers.ChoiceField(choices=OrderStatus.choices, required=False)


class OrderItemOut(Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    tariff_id = serializers.IntegerField()
    period = serializers.CharField()
    addon_values = serializers.DictField()
    parameters = serializers.DictField()
    quick = serializers.BooleanField()
    net = MoneyField(amount="net_minor", currency="currency")
    tax_added = MoneyField(amount="tax_added_minor", currency="currency")
    total = MoneyField(amount="total_minor", currency="currency")
    service_id = serializers.IntegerField(allow_null=True)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        instance.currency = self.context["currency"]
        return super().to_representation(instance)


class OrderOut(Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    provider_id = serializers.IntegerField()
    currency = serializers.CharField()
    subtotal = MoneyField(amount="subtotal_minor")
    discount = MoneyField(amount="discount_minor")
    tax = MoneyField(amount="tax_minor")
    total = MoneyField(amount="total_minor")
    promotions = serializers.SerializerMethodField()
    payer_id = serializers.IntegerField(allow_null=True)
    payment_method_id = serializers.SerializerMethodField()
    invoice_id = serializers.IntegerField(allow_null=True)
    items = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(AppliedPromotionOut(many=True))
    def get_promotions(self, order: Any) -> list[dict[str, Any]]:
        return [
            {
                "promotion_id": p["promotion_id"],
                "code": p["code"],
                "amount": money(p["amount_minor"], order.currency),
            }
            for p in (order.quote or {}).get("promotions", [])
        ]

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_payment_method_id(self, order: Any) -> int | None:
        value = order.payment_method
        return int(value) if value and value.isdigit() else None

    @extend_schema_field(OrderItemOut(many=True))
    def get_items(self, order: Any) -> Any:
        # ``checkout_items``: the items checkout just wrote (no second read of a new order)
        items = getattr(order, "checkout_items", None) or order.items.all()
        return OrderItemOut(items, many=True, context={"currency": order.currency}).data


class PaymentMethodRef(Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    gateway = serializers.CharField()


class PaymentOut(Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=PaymentStatus.choices)
    purpose = serializers.ChoiceField(choices=PaymentPurpose.values)
    reference = serializers.CharField(allow_blank=True)
    method = PaymentMethodRef()
    saved_method_id = serializers.IntegerField(allow_null=True)
    amount = MoneyField(amount="amount_minor", help_text="What the balance gets.")
    commission = MoneyField(amount="commission_minor")
    total = MoneyField(amount="total_minor", help_text="What the payer is charged.")
    refunded = MoneyField(amount="refunded_minor")
    redirect_url = serializers.CharField(allow_blank=True, help_text="The gateway's page.")
    instructions = serializers.CharField(allow_blank=True, help_text="Bank transfer details.")
    failure_code = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)


class OrderPaymentOut(OrderOut):
    """The order and, when the balance did not cover it, the shortfall and its payment."""

    shortfall = MoneyField(amount="shortfall_minor", help_text="0 when paid from the balance.")
    payment = PaymentOut(allow_null=True, source="started_payment")


class OrderPayIn(Serializer):
    payment_method_id = serializers.IntegerField(required=False, **ID)
    saved_method_id = serializers.IntegerField(
        required=False, help_text="One-click: charge this saved method.", **ID
    )
    return_url = serializers.URLField(**RETURN_URL)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("payment_method_id") and not attrs.get("saved_method_id"):
            raise serializers.ValidationError("payment_method_id or saved_method_id")
        return attrs


# --- payments, saved methods -----------------------------------------------------------------


class PaymentFilter(Serializer):
    status = serializers.ChoiceField(choices=PaymentStatus.choices, required=False)
    purpose = serializers.ChoiceField(choices=PaymentPurpose.values, required=False)


class TopUpIn(OrderPayIn):
    amount_minor = serializers.IntegerField(min_value=1, max_value=MAX_MINOR)
    currency = currency_field()
    save_method = serializers.BooleanField(required=False, default=False)
    payer_id = serializers.IntegerField(required=False, allow_null=True, **ID)


class SavedMethodOut(Serializer):
    id = serializers.IntegerField()
    label = serializers.CharField()
    method = PaymentMethodRef()
    is_default = serializers.BooleanField()
    auto_payment_max = serializers.SerializerMethodField(
        help_text="The most one auto-payment may charge; null: auto-payment off."
    )
    created_at = serializers.DateTimeField()

    @extend_schema_field({**MONEY_SCHEMA, "nullable": True})
    def get_auto_payment_max(self, saved: Any) -> dict[str, Any] | None:
        limit = saved.auto_payment_max_minor
        return None if limit is None else money(limit, saved.method.currency)


class SavedMethodPatchIn(Serializer):
    is_default = serializers.BooleanField(required=False)
    auto_payment_max_minor = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_MINOR,
        help_text="null: auto-payment off.",
    )


# --- invoices --------------------------------------------------------------------------------


class InvoiceLineOut(Serializer):
    position = serializers.IntegerField()
    description = serializers.CharField()
    period_from = serializers.DateField(
        allow_null=True, help_text="First day of the service period the line charges for."
    )
    period_to = serializers.DateField(
        allow_null=True,
        help_text="End of the service period, exclusive (null: not a period's price).",
    )
    quantity = serializers.IntegerField()
    unit_price = MoneyField(amount="unit_price_minor")
    discount = MoneyField(amount="discount_minor")
    net = MoneyField(amount="net_minor")
    tax_rate = serializers.DecimalField(max_digits=6, decimal_places=3, coerce_to_string=True)
    tax = MoneyField(amount="tax_minor")
    total = MoneyField(amount="total_minor")

    def to_representation(self, instance: Any) -> dict[str, Any]:
        instance.currency = self.context["currency"]
        return super().to_representation(instance)


class InvoiceOut(Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField(source="display_number")
    status = serializers.ChoiceField(choices=InvoiceStatus.choices)
    provider_id = serializers.IntegerField()
    payer_id = serializers.IntegerField(allow_null=True)
    currency = serializers.CharField()
    subtotal = MoneyField(amount="subtotal_minor")
    tax = MoneyField(amount="tax_minor")
    total = MoneyField(amount="total_minor")
    reference = serializers.CharField(allow_blank=True)
    issued_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)


PARTY_SCHEMA = {
    "type": "object",
    "additionalProperties": {"type": "string"},
    "description": "As it was when the document was issued (name, address, tax id ...).",
}


@extend_schema_field(PARTY_SCHEMA)
class PartyField(serializers.DictField):
    """A seller or buyer snapshot (string values; anything else is dropped)."""

    def to_representation(self, value: Any) -> dict[str, str]:
        return {str(k): v for k, v in (value or {}).items() if isinstance(v, str)}


class InvoiceDetailOut(InvoiceOut):
    seller = PartyField(source="provider_snapshot")
    buyer = PartyField(source="payer_snapshot")
    lines = serializers.SerializerMethodField()

    @extend_schema_field(InvoiceLineOut(many=True))
    def get_lines(self, invoice: Any) -> Any:
        rows = invoice.lines.all()
        return InvoiceLineOut(rows, many=True, context={"currency": invoice.currency}).data


class DocumentFilter(Serializer):
    date_from = serializers.DateField(
        required=False, help_text="Issued on or after this day (UTC): YYYY-MM-DD."
    )
    date_to = serializers.DateField(
        required=False, help_text="Issued on or before this day (UTC): YYYY-MM-DD."
    )
    status = serializers.ChoiceField(
        choices=InvoiceStatus.choices,
        required=False,
        help_text="Credit notes count as issued.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("date_from"), attrs.get("date_to")
        if start and end and start > end:
            raise serializers.ValidationError(
                {"date_to": ["date_to is before date_from."]}, code="invalid_date_range"
            )
        return attrs


class InvoiceFilter(DocumentFilter):
    pass


class DocumentListFilter(DocumentFilter):
    kind = serializers.ChoiceField(choices=DocumentKind.choices, required=False)


class DocumentOut(Serializer):
    """An invoice or a credit note in the client's document list."""

    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.ChoiceField(choices=InvoiceStatus.choices)
    provider_id = serializers.IntegerField()
    invoice_id = serializers.IntegerField(
        allow_null=True, help_text="The invoice a credit note corrects (null for an invoice)."
    )
    currency = serializers.CharField()
    total = MoneyField(amount="total_minor", help_text="A credit note's amount credited.")
    issued_at = serializers.DateTimeField()
    pdf = serializers.SerializerMethodField()

    def get_pdf(self, row: Any) -> str:
        """The path of the document's PDF endpoint."""
        name = "api:invoice-pdf" if row.kind == DocumentKind.INVOICE else "api:credit-note-pdf"
        return reverse(name, args=[row.id])


class CreditNoteOut(Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField(source="display_number")
    invoice_id = serializers.IntegerField()
    invoice_number = serializers.CharField(source="invoice.display_number")
    provider_id = serializers.IntegerField()
    currency = serializers.CharField()
    amount = MoneyField(amount="amount_minor")
    reason = serializers.CharField(allow_blank=True)
    reference = serializers.CharField(allow_blank=True)
    issued_at = serializers.DateTimeField()
    seller = PartyField(source="provider_snapshot")
    buyer = PartyField(source="payer_snapshot")


# --- services ------------------------------------------------------------------------------


class ConfigureIn(Serializer):
    parameters = ParametersField()


# --- staff ---------------------------------------------------------------------------------


class StaffOrderFilter(OrderFilter):
    client_id = serializers.IntegerField(required=False, **ID)


class StaffOrderOut(OrderOut):
    client_id = serializers.IntegerField()


class StaffPaymentFilter(PaymentFilter):
    client_id = serializers.IntegerField(required=False, **ID)


class StaffPaymentOut(PaymentOut):
    client_id = serializers.IntegerField()
    provider_id = serializers.IntegerField()
    gateway_reference = serializers.CharField(allow_blank=True)


class RefundIn(Serializer):
    amount_minor = serializers.IntegerField(
        min_value=1, max_value=MAX_MINOR, required=False, help_text="Default: all that is left."
    )
    destination = serializers.ChoiceField(choices=RefundDestination.values)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class RefundOut(Serializer):
    id = serializers.IntegerField()
    payment_id = serializers.IntegerField()
    amount = MoneyField(amount="amount_minor")
    destination = serializers.ChoiceField(choices=RefundDestination.values)
    status = serializers.ChoiceField(choices=RefundStatus.choices)
    reason = serializers.CharField(allow_blank=True)
    failure_code = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
