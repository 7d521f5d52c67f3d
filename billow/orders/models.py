"""Carts, orders and their items.

An order is priced once, by the quote, at checkout: the quote snapshot (JSON) and the totals
are stored and never recomputed. Its payment reference is ``order:<id>``.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Cart(models.Model):
    """A client's cart with one provider, in one currency."""

    client = models.ForeignKey("accounts.Client", on_delete=models.CASCADE, related_name="+")
    provider = models.ForeignKey("accounts.Provider", on_delete=models.CASCADE, related_name="+")
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "provider"], name="cart_one_per_provider")
        ]

    def __str__(self) -> str:
        return f"cart {self.client_id}/{self.provider_id}"


class CartItem(models.Model):
    """A configured tariff waiting in the cart (checked against the tariff when added)."""

    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    tariff = models.ForeignKey("catalog.Tariff", on_delete=models.CASCADE, related_name="+")
    period = models.CharField(max_length=10)
    addon_values = models.JSONField(default=dict, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    quick = models.BooleanField(_("configure later"), default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.tariff_id} x {self.period}"


#: ``Order.payment_method`` of an order paid from the balance at checkout (a method id in text
#: otherwise, or empty while nothing was chosen): the shorter checkout offers it again.
PAID_FROM_BALANCE = "balance"


class OrderStatus(models.TextChoices):
    NEW = "new", _("New")
    AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
    PAID = "paid", _("Paid")
    CANCELLED = "cancelled", _("Cancelled")


class Order(models.Model):
    """A checked-out cart. Guarantees: ``total = net + added tax`` of the quote snapshot; paid
    at most once (the settle step locks the client balance, then the order)."""

    client = models.ForeignKey("accounts.Client", on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey("accounts.Provider", on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=20, choices=OrderStatus.choices, default=OrderStatus.NEW, db_index=True
    )
    subtotal_minor = models.BigIntegerField(_("list price"))
    discount_minor = models.BigIntegerField(_("discount"), default=0)
    tax_minor = models.BigIntegerField(_("tax"), default=0)
    total_minor = models.BigIntegerField(_("total"))
    promo_code = models.ForeignKey(
        "marketing.PromoCode", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    quote = models.JSONField(_("quote snapshot"), default=dict)
    payer = models.ForeignKey(
        "accounts.Payer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    payment_method = models.CharField(_("payment method reference"), max_length=100, blank=True)
    invoice = models.ForeignKey(
        "invoicing.Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    paid_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [models.Index(fields=["client", "status"], name="order_client_status_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_minor__gte=0, discount_minor__gte=0, tax_minor__gte=0),
                name="order_amounts_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"order {self.pk}"

    @property
    def payment_reference(self) -> str:
        return f"order:{self.pk}"


class OrderItem(models.Model):
    """One ordered tariff; ``service`` is set when the order is paid."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    key = models.CharField(max_length=20)
    tariff = models.ForeignKey("catalog.Tariff", on_delete=models.PROTECT, related_name="+")
    period = models.CharField(max_length=10)
    addon_values = models.JSONField(default=dict, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    quick = models.BooleanField(default=False)
    net_minor = models.BigIntegerField()
    tax_added_minor = models.BigIntegerField(default=0)
    total_minor = models.BigIntegerField()
    service = models.ForeignKey(
        "services.Service", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.order_id}/{self.key}"


class TrialUse(models.Model):
    """A trial a client took (by ordering a tariff's trial period), so it is taken once.

    ``scope_key`` is ``tariff:<id>`` or ``product_type:<id>`` as the provider's trial scope said
    at checkout, unique per client: two concurrent checkouts of the same trial cannot both
    commit. Written by the checkout that places the order; a cancelled order gives it back.
    """

    client = models.ForeignKey("accounts.Client", on_delete=models.CASCADE, related_name="+")
    tariff = models.ForeignKey("catalog.Tariff", on_delete=models.PROTECT, related_name="+")
    product_type = models.ForeignKey(
        "catalog.ProductType", on_delete=models.PROTECT, related_name="+"
    )
    scope_key = models.CharField(max_length=40)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="trial_uses")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("trial taken")
        verbose_name_plural = _("trials taken")
        constraints = [
            models.UniqueConstraint(fields=["client", "scope_key"], name="trial_once_per_scope")
        ]

    def __str__(self) -> str:
        return f"trial {self.scope_key} of client {self.client_id}"
