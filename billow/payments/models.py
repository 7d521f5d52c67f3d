"""Payment methods, payments, refunds, saved methods and webhook events (DESIGN §3).

Money columns are integer minor units next to a ``currency`` code. A payment's status changes only
through ``billow.payments.actions`` (the table in ``states``); money moves only through the
ledger, keyed by the payment / refund id, so a replay never posts twice.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from billow.core import clock
from billow.core.audit import AuditEvent
from billow.core.money import default_payment_maximum_minor
from billow.payments.states import PaymentStatus


class PaymentMethod(models.Model):
    """A gateway configured for one provider and currency.

    The payer pays ``amount + fee_fixed + amount * fee_percent / 100`` (rounded half up once, in
    minor units); the balance is credited with ``amount``. An empty ``client_groups`` means every
    client may use it. ``secrets_encrypted`` is written by ``payments.secrets`` only.
    """

    provider = models.ForeignKey(
        "accounts.Provider", on_delete=models.PROTECT, related_name="payment_methods"
    )
    gateway = models.CharField(_("gateway"), max_length=50, help_text=_("Registry key"))
    name = models.CharField(_("name"), max_length=200)
    currency = models.CharField(_("currency"), max_length=3)
    fee_fixed_minor = models.BigIntegerField(_("fixed commission (minor units)"), default=0)
    fee_percent = models.DecimalField(_("commission %"), max_digits=7, decimal_places=4, default=0)
    min_amount_minor = models.BigIntegerField(_("minimum amount (minor units)"), default=0)
    max_amount_minor = models.BigIntegerField(
        _("maximum amount (minor units)"),
        null=True,
        blank=True,
        help_text=_("Empty: the default maximum, 100,000,000 units of the method's currency"),
    )
    client_groups = models.ManyToManyField(
        "accounts.ClientGroup",
        blank=True,
        related_name="payment_methods",
        help_text=_("Empty: every client."),
    )
    sort = models.IntegerField(_("sort order"), default=100)
    is_active = models.BooleanField(_("active"), default=True)
    supports_refunds = models.BooleanField(_("refunds supported"), default=False)
    supports_recurring = models.BooleanField(_("recurring payments supported"), default=False)
    config = models.JSONField(_("settings"), default=dict, blank=True)
    secrets_encrypted = models.TextField(
        _("secrets (encrypted)"), blank=True, default="", editable=False
    )
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        ordering = ["sort", "id"]
        verbose_name = _("payment method")
        verbose_name_plural = _("payment methods")
        constraints = [
            models.CheckConstraint(
                condition=Q(fee_fixed_minor__gte=0), name="paymethod_fee_fixed_nonneg"
            ),
            models.CheckConstraint(
                condition=Q(fee_percent__gte=0, fee_percent__lte=100),
                name="paymethod_fee_percent_range",
            ),
            models.CheckConstraint(
                condition=Q(min_amount_minor__gte=0), name="paymethod_min_nonneg"
            ),
            models.CheckConstraint(
                condition=Q(max_amount_minor__isnull=True)
                | Q(max_amount_minor__gte=F("min_amount_minor")),
                name="paymethod_max_ge_min",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.gateway}, {self.currency})"

    @property
    def maximum_minor(self) -> int:
        """The largest payment this method takes: its own maximum, else the default one (no
        method is unlimited: with the ledger's balance limit, a few huge top-ups must not reach
        it)."""
        if self.max_amount_minor is not None:
            return self.max_amount_minor
        return default_payment_maximum_minor(self.currency)


class PaymentPurpose(models.TextChoices):
    TOPUP = "topup", _("Balance top-up")
    ORDER = "order", pgettext_lazy("noun", "Order")


class Payment(models.Model):
    """Money a client pays through a method. ``amount`` is what the balance gets;
    ``commission`` is added on top (the payer is charged ``total_minor``).

    Guarantees: ``idempotency_key`` is unique (a retried request returns this row); a paid
    payment has exactly one ledger transaction (key ``payment:<id>``); ``refunded_minor`` (pending
    and succeeded refunds) never exceeds ``amount_minor``.
    """

    provider = models.ForeignKey(
        "accounts.Provider", on_delete=models.PROTECT, related_name="payments"
    )
    client = models.ForeignKey("accounts.Client", on_delete=models.PROTECT, related_name="payments")
    payer = models.ForeignKey(
        "accounts.Payer", on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )
    method = models.ForeignKey(PaymentMethod, on_delete=models.PROTECT, related_name="payments")
    saved_method = models.ForeignKey(
        "payments.SavedPaymentMethod",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
    )
    amount_minor = models.BigIntegerField(_("amount (minor units)"))
    commission_minor = models.BigIntegerField(_("commission (minor units)"), default=0)
    refunded_minor = models.BigIntegerField(_("refunded (minor units)"), default=0)
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(
        _("status"), max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.NEW
    )
    purpose = models.CharField(
        _("purpose"), max_length=16, choices=PaymentPurpose.choices, default=PaymentPurpose.TOPUP
    )
    reference = models.CharField(
        _("reference"),
        max_length=100,
        blank=True,
        db_index=True,
        help_text=_('Opaque, e.g. "order:12"'),
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    gateway_reference = models.CharField(
        _("gateway reference"), max_length=200, blank=True, db_index=True
    )
    save_method = models.BooleanField(_("save the payment method"), default=False)
    redirect_url = models.CharField(_("payment page"), max_length=2000, blank=True)
    instructions = models.TextField(_("instructions"), blank=True)
    return_url = models.CharField(_("return URL"), max_length=2000, blank=True)
    gateway_data = models.JSONField(_("gateway data"), default=dict, blank=True)
    failure_code = models.CharField(_("failure code"), max_length=100, blank=True)
    failure_message = models.CharField(_("failure message"), max_length=500, blank=True)
    ledger_transaction = models.ForeignKey(
        "ledger.LedgerTransaction",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=clock.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=clock.now)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        indexes = [models.Index(fields=["status", "updated_at"], name="payment_status_updated")]
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="payment_amount_pos"),
            models.CheckConstraint(
                condition=Q(commission_minor__gte=0), name="payment_commission_nonneg"
            ),
            models.CheckConstraint(
                condition=Q(refunded_minor__gte=0, refunded_minor__lte=F("amount_minor")),
                name="payment_refunded_range",
            ),
            models.UniqueConstraint(
                fields=["method", "gateway_reference"],
                condition=~Q(gateway_reference=""),
                name="payment_uniq_gateway_reference",
            ),
        ]

    def __str__(self) -> str:
        return f"Payment #{self.pk} {self.amount_minor} {self.currency} ({self.status})"

    @property
    def total_minor(self) -> int:
        """What the payer is charged: amount plus commission."""
        return self.amount_minor + self.commission_minor


class PaymentEvent(AuditEvent):
    """Audit trail of a payment: created, started, paid, failed, refunded ..."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="events")

    class Meta:
        ordering = ["id"]
        verbose_name = _("payment event")
        verbose_name_plural = _("payment events")


class RefundDestination(models.TextChoices):
    GATEWAY = "gateway", _("Back through the gateway")
    BALANCE = "balance", _("To the client balance")


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class Refund(models.Model):
    """Part or all of a paid payment given back.

    ``gateway``: the client balance is debited and the money leaves through the gateway (posted
    when the refund is requested; reversed if the gateway refuses). ``balance``: the provider
    gives the money back as balance credit (revenue -> client balance); nothing leaves.
    """

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount_minor = models.BigIntegerField(_("amount (minor units)"))
    currency = models.CharField(_("currency"), max_length=3)
    destination = models.CharField(
        _("destination"), max_length=16, choices=RefundDestination.choices
    )
    status = models.CharField(
        _("status"), max_length=16, choices=RefundStatus.choices, default=RefundStatus.PENDING
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    gateway_reference = models.CharField(
        _("gateway reference"), max_length=200, blank=True, db_index=True
    )
    failure_code = models.CharField(_("failure code"), max_length=100, blank=True)
    ledger_transaction = models.ForeignKey(
        "ledger.LedgerTransaction",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reversal_transaction = models.ForeignKey(
        "ledger.LedgerTransaction",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=clock.now, editable=False)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="refund_amount_pos"),
        ]

    def __str__(self) -> str:
        return f"Refund #{self.pk} {self.amount_minor} {self.currency} ({self.status})"


class SavedPaymentMethod(models.Model):
    """A card / wallet the gateway keeps for a client (we hold only its token).

    Used for one-click payment and auto-payment: an auto-payment never exceeds
    ``auto_payment_max_minor`` (empty: auto-payment off). At most one default per client.
    """

    client = models.ForeignKey(
        "accounts.Client", on_delete=models.CASCADE, related_name="saved_payment_methods"
    )
    method = models.ForeignKey(
        PaymentMethod, on_delete=models.PROTECT, related_name="saved_methods"
    )
    gateway_token = models.CharField(_("gateway token"), max_length=255, editable=False)
    label = models.CharField(_("label"), max_length=100, help_text=_('e.g. "Visa •••• 4242"'))
    is_default = models.BooleanField(_("default"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    auto_payment_max_minor = models.BigIntegerField(
        _("auto-payment maximum (minor units)"),
        null=True,
        blank=True,
        help_text=_("Empty: no auto-payment from this method."),
    )
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        ordering = ["-is_default", "id"]
        verbose_name = _("saved payment method")
        verbose_name_plural = _("saved payment methods")
        constraints = [
            models.UniqueConstraint(
                fields=["method", "gateway_token"], name="savedmethod_uniq_token"
            ),
            models.UniqueConstraint(
                fields=["client"], condition=Q(is_default=True), name="savedmethod_one_default"
            ),
            models.CheckConstraint(
                condition=Q(auto_payment_max_minor__isnull=True) | Q(auto_payment_max_minor__gt=0),
                name="savedmethod_auto_max_pos",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.method.name})"


class WebhookStatus(models.TextChoices):
    PROCESSED = "processed", _("Processed")
    IGNORED = "ignored", _("Ignored")
    REJECTED = "rejected", _("Rejected")


class WebhookEvent(models.Model):
    """One verified gateway notification, stored once per (gateway, event id).

    A second delivery of the same event finds this row and changes nothing (idempotent).
    Unverifiable deliveries are refused before anything is written.
    """

    gateway = models.CharField(_("gateway"), max_length=50)
    event_id = models.CharField(_("event id"), max_length=255)
    event_type = models.CharField(_("event type"), max_length=100, blank=True)
    method = models.ForeignKey(
        PaymentMethod, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="webhook_events"
    )
    payload = models.JSONField(_("payload"), default=dict)
    status = models.CharField(_("status"), max_length=16, choices=WebhookStatus.choices)
    result_code = models.CharField(_("result"), max_length=100, blank=True)
    received_at = models.DateTimeField(_("received"), default=clock.now, editable=False)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        constraints = [
            models.UniqueConstraint(fields=["gateway", "event_id"], name="webhook_uniq_event"),
        ]

    def __str__(self) -> str:
        return f"{self.gateway}:{self.event_id} ({self.status})"
