"""Tax rules, invoices, credit notes and the gapless numbering counter.

Numbers are gapless per (provider, year, document kind): the counter row is locked FOR UPDATE
and incremented in the transaction that inserts the document, so a rollback gives the number
back and two documents never share one.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TaxRule(models.Model):
    """A tax rate of a provider (optionally only for one client group, or for one client: a
    personal rate) for payers in ``country`` (blank: any) and ``region`` (blank: the whole
    country), for one ``product_type`` (blank: any). ``included``: the price already contains
    the tax; otherwise it is added on top."""

    provider = models.ForeignKey("accounts.Provider", on_delete=models.CASCADE, related_name="+")
    client_group = models.ForeignKey(
        "accounts.ClientGroup", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    client = models.ForeignKey(
        "accounts.Client",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("A personal rate: replaces the group's and the provider's rules for them."),
    )
    name = models.CharField(_("name"), max_length=100)
    country = models.CharField(_("payer country"), max_length=2, blank=True)
    region = models.CharField(_("payer region"), max_length=100, blank=True)
    product_type = models.CharField(_("product type (internal name)"), max_length=50, blank=True)
    rate = models.DecimalField(_("rate, %"), max_digits=6, decimal_places=3)
    included = models.BooleanField(_("included in the price"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["provider", "country", "region", "id"]
        verbose_name = _("tax rule")
        verbose_name_plural = _("tax rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(rate__gte=0, rate__lte=100), name="tax_rule_rate_range"
            ),
            models.CheckConstraint(
                condition=Q(client__isnull=True) | Q(client_group__isnull=True),
                name="tax_rule_client_or_group",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.rate}%"


class DocumentKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    CREDIT_NOTE = "credit_note", _("Credit note")


class DocumentCounter(models.Model):
    """The last number issued per provider, year and kind (locked FOR UPDATE to issue)."""

    provider = models.ForeignKey("accounts.Provider", on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=12, choices=DocumentKind.choices)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "year", "kind"], name="document_counter_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.provider_id}/{self.year}: {self.last_number}"


class InvoiceStatus(models.TextChoices):
    ISSUED = "issued", _("Issued")
    PAID = "paid", _("Paid")
    CANCELLED = "cancelled", _("Cancelled")


class Invoice(models.Model):
    """A numbered payment request. Lines and payer/provider details are snapshots: editing the
    payer later does not change an issued invoice. ``total = subtotal + added tax``."""

    provider = models.ForeignKey("accounts.Provider", on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey("accounts.Client", on_delete=models.PROTECT, related_name="+")
    payer = models.ForeignKey(
        "accounts.Payer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    year = models.PositiveSmallIntegerField()
    number = models.PositiveIntegerField()
    status = models.CharField(
        max_length=10, choices=InvoiceStatus.choices, default=InvoiceStatus.ISSUED
    )
    currency = models.CharField(max_length=3)
    subtotal_minor = models.BigIntegerField(_("net amount"))
    tax_minor = models.BigIntegerField(_("tax"))
    total_minor = models.BigIntegerField(_("total"))
    payer_snapshot = models.JSONField(default=dict)
    provider_snapshot = models.JSONField(default=dict)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    issued_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)
    due_on = models.DateField(
        _("due on"),
        null=True,
        blank=True,
        help_text=_(
            "The last day to pay an issued invoice (a post-paid month, a credit-limit debt); "
            "unpaid after it, the invoice is overdue. Empty: no due date."
        ),
    )
    reverse_charge = models.BooleanField(
        _("reverse charge"),
        default=False,
        help_text=_("EU B2B: no VAT charged, the buyer accounts for it (reverse charge)."),
    )

    class Meta:
        ordering = ["-id"]
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        indexes = [
            # the run's credit terms read the unpaid invoices that have a due date
            models.Index(
                fields=["client", "due_on"],
                condition=Q(status="issued", due_on__isnull=False),
                name="invoice_unpaid_due_idx",
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "year", "number"], name="invoice_number_unique"
            ),
            models.CheckConstraint(
                condition=Q(total_minor__gte=0, tax_minor__gte=0), name="invoice_amounts_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.display_number

    @property
    def display_number(self) -> str:
        return f"INV-{self.year}-{self.number:06d}"


class InvoiceLine(models.Model):
    """``net`` is before added tax; ``total = net + tax`` when the tax is added, ``net``
    when it is included (``tax`` then is the part of ``net`` that is tax). Always
    ``unit_price x quantity - discount = net``. A service period line names the service and
    its period (``period_to`` exclusive); a partial period shows its ``proration`` (the share of
    the period, e.g. 0.5) and the whole period's ``list_price_minor``, and its unit price is
    the prorated price."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    description = models.CharField(max_length=300)
    quantity = models.PositiveIntegerField(default=1)
    unit_price_minor = models.BigIntegerField()
    discount_minor = models.BigIntegerField(default=0)
    net_minor = models.BigIntegerField()
    tax_rate = models.DecimalField(max_digits=6, decimal_places=3, default=0)
    tax_minor = models.BigIntegerField(default=0)
    total_minor = models.BigIntegerField()
    service = models.ForeignKey(
        "services.Service",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        # not indexed: lines are read through their invoice, and the billing run inserts one
        # per service period (an index more on every line costs the run, bench/billing_run.py)
        db_index=False,
    )
    period_from = models.DateField(_("period from"), null=True, blank=True)
    period_to = models.DateField(_("period to (exclusive)"), null=True, blank=True)
    proration = models.DecimalField(
        _("share of the period"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    list_price_minor = models.BigIntegerField(_("price of the whole period"), null=True, blank=True)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return f"{self.position}. {self.description}"


class CreditNote(models.Model):
    """A numbered correction of ``invoice`` (a refund): the invoice is never edited.
    ``amount_minor`` is the total credited: ``subtotal`` (net) plus the tax given back that
    had been added on top (``tax_minor`` is all the tax it reverses, as on the invoice). Seller
    and buyer details are snapshots, like an invoice's."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    provider = models.ForeignKey("accounts.Provider", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    number = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    amount_minor = models.BigIntegerField()
    subtotal_minor = models.BigIntegerField(_("net amount"), default=0)
    tax_minor = models.BigIntegerField(_("tax"), default=0)
    reason = models.CharField(max_length=300, blank=True)
    reference = models.CharField(max_length=100, blank=True)
    issued_at = models.DateTimeField(default=timezone.now)
    # The seller as it is when the note is issued; the buyer is the corrected invoice's.
    payer_snapshot = models.JSONField(default=dict)
    provider_snapshot = models.JSONField(default=dict)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "year", "number"], name="credit_note_number_unique"
            ),
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="credit_note_positive"),
        ]

    def __str__(self) -> str:
        return self.display_number

    @property
    def display_number(self) -> str:
        return f"CN-{self.year}-{self.number:06d}"


class ProviderTaxProfile(models.Model):
    """Where a provider is registered for VAT: reverse charge (EU B2B) applies to business
    payers with a valid VAT number in another member state than ``country``."""

    provider = models.OneToOneField(
        "accounts.Provider", on_delete=models.CASCADE, related_name="tax_profile"
    )
    country = models.CharField(_("country of VAT registration"), max_length=2)
    vat_number = models.CharField(_("VAT number"), max_length=40, blank=True)
    eu_reverse_charge = models.BooleanField(
        _("reverse charge for EU businesses"),
        default=True,
        help_text=_(
            "No VAT for business payers with a valid VAT number in another EU member state."
        ),
    )

    class Meta:
        verbose_name = _("provider tax profile")
        verbose_name_plural = _("provider tax profiles")

    def __str__(self) -> str:
        return f"{self.provider_id}: {self.country} {self.vat_number}"
