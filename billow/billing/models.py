"""Billing data: expenses (money taken or given back for a service), per-client billing settings
(credit limit / post-paid), scheduled plan changes, and the billing run with its chunks."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from billow.core import clock


class ExpenseKind(models.TextChoices):
    CHARGE = "charge", _("Charge")
    REFUND = "refund", _("Refund of the unused part")
    CREDIT = "credit", _("Credit (downgrade)")


class ExpenseReason(models.TextChoices):
    """Why money moved. ``period`` charges are the ones charged exactly once per period start."""

    PERIOD = "period", _("Service period")
    UPGRADE = "upgrade", _("Tariff upgrade (prorated difference)")
    DOWNGRADE = "downgrade", _("Tariff downgrade (prorated credit)")
    ADDONS = "addons", _("Addon change (prorated)")
    DELETION = "deletion", _("Deletion (unused part)")
    STAFF_CREDIT = "staff_credit", _("Credit by staff")
    HOUR = "hour", _("Hourly charge")


class Expense(models.Model):
    """Money taken for (charge) or given back on (refund, credit) one service over a period.

    Guarantees: ``amount_minor`` is positive; the direction is the kind (a charge moved money
    from the client balance to provider revenue, a refund or credit moved it back). ``key`` is
    unique and is also the idempotency key of ``transaction``; a period charge's key is
    ``charge:<service_id>:<period_from>`` and (service, period_from) is unique among period
    charges, so each service-period is charged at most once whatever reruns. ``period_to`` is
    exclusive.

    Tax (the checkout's rules, ``billow.billing.taxes``): ``amount_minor`` is the price after
    discounts, as the quote's line net (tax-inclusive when the provider's tax is included);
    ``tax_minor`` is the tax of it, of which ``tax_added_minor`` was added on top. So the
    wallet moves ``gross_minor = amount + tax_added``, revenue ``net_minor = amount - included
    tax`` and tax payable ``tax_minor``. A refund or credit carries the tax it gives back.
    ``invoice`` documents a charge, ``credit_note`` a refund or credit; empty while not (yet)
    documented (post-paid and hourly charges are documented later, ``billing.documents``).
    """

    service = models.ForeignKey(
        "services.Service", on_delete=models.PROTECT, related_name="expenses"
    )
    client = models.ForeignKey("accounts.Client", on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey("accounts.Provider", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=10, choices=ExpenseKind.choices)
    reason = models.CharField(
        _("reason"), max_length=12, choices=ExpenseReason.choices, default=ExpenseReason.PERIOD
    )
    key = models.CharField(_("key"), max_length=200, unique=True)
    period_from = models.DateField(_("from"))
    period_to = models.DateField(_("to (exclusive)"))
    amount_minor = models.BigIntegerField(_("amount, minor units"))
    currency = models.CharField(_("currency"), max_length=3)
    transaction = models.ForeignKey(
        "ledger.LedgerTransaction",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty for a zero amount (nothing to post)."),
    )
    description = models.CharField(_("description"), max_length=300, blank=True, default="")
    created_at = models.DateTimeField(default=clock.now, editable=False)
    tax_minor = models.BigIntegerField(_("tax, minor units"), default=0)
    tax_added_minor = models.BigIntegerField(_("of which added on top, minor units"), default=0)
    tax_rate = models.DecimalField(_("tax rate, %"), max_digits=6, decimal_places=3, default=0)
    reverse_charge = models.BooleanField(_("reverse charge"), default=False)
    invoice = models.ForeignKey(
        "invoicing.Invoice",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The invoice that documents this charge."),
    )
    credit_note = models.ForeignKey(
        "invoicing.CreditNote",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # a partial index below: the run inserts thousands without one
        help_text=_("The credit note that documents this refund or credit."),
    )

    class Meta:
        ordering = ["-id"]
        verbose_name = _("expense")
        verbose_name_plural = _("expenses")
        indexes = [
            models.Index(fields=["client", "period_from"], name="expense_client_from_idx"),
            models.Index(fields=["service", "period_from"], name="expense_service_from_idx"),
            # billing.documents gathers the charges no invoice documents yet
            models.Index(
                fields=["client", "created_at"],
                condition=Q(kind="charge", invoice__isnull=True),
                name="expense_undocumented_idx",
            ),
            models.Index(
                fields=["credit_note"],
                condition=Q(credit_note__isnull=False),
                name="expense_credit_note_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "period_from"],
                condition=Q(kind="charge", reason="period"),
                name="expense_one_charge_per_service_period",
            ),
            models.CheckConstraint(
                condition=Q(amount_minor__gte=0), name="expense_amount_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(period_to__gt=models.F("period_from")), name="expense_period_order"
            ),
            models.CheckConstraint(
                condition=Q(tax_added_minor__gte=0, tax_minor__gte=models.F("tax_added_minor")),
                name="expense_tax_parts_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount_minor} {self.currency} #{self.service_id}"

    @property
    def gross_minor(self) -> int:
        """What moved between the client's wallet and the provider."""
        return self.amount_minor + self.tax_added_minor

    @property
    def net_minor(self) -> int:
        """What moved to (or back from) revenue: the amount less the tax included in it."""
        return self.amount_minor - (self.tax_minor - self.tax_added_minor)


class ClientBillingSettings(models.Model):
    """How far a client's balance in one currency may go below zero (reference §1.14).

    ``credit_limit_minor``: the balance may go down to ``-credit_limit_minor``. ``postpaid``:
    no limit and services are never suspended for non-payment. The two exclude each other (a DB
    check as well as ``actions.set_client_billing_settings``). No row = prepaid, limit 0. The
    settings apply to each of the client's balances in that currency (one per provider).
    """

    client = models.ForeignKey(
        "accounts.Client", on_delete=models.CASCADE, related_name="billing_settings"
    )
    currency = models.CharField(_("currency"), max_length=3)
    credit_limit_minor = models.BigIntegerField(_("credit limit, minor units"), default=0)
    postpaid = models.BooleanField(_("post-paid"), default=False)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        verbose_name = _("client billing settings")
        verbose_name_plural = _("client billing settings")
        constraints = [
            models.UniqueConstraint(
                fields=["client", "currency"], name="billing_settings_client_currency"
            ),
            models.CheckConstraint(
                condition=Q(credit_limit_minor__gte=0), name="billing_settings_limit_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(postpaid=False) | Q(credit_limit_minor=0),
                name="billing_settings_postpaid_xor_limit",
            ),
        ]

    def __str__(self) -> str:
        mode = "post-paid" if self.postpaid else f"limit {self.credit_limit_minor}"
        return f"{self.client_id} {self.currency}: {mode}"


class PendingChange(models.Model):
    """A tariff/addon change that takes effect at the end of the paid period (a downgrade under
    the ``period_end`` policy). The billing run applies it when it renews the service."""

    service = models.OneToOneField(
        "services.Service", on_delete=models.CASCADE, related_name="pending_change"
    )
    tariff = models.ForeignKey("catalog.Tariff", on_delete=models.PROTECT, related_name="+")
    addon_values = models.JSONField(default=dict, blank=True)
    effective_on = models.DateField(_("takes effect on"))
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        verbose_name = _("pending plan change")
        verbose_name_plural = _("pending plan changes")

    def __str__(self) -> str:
        return f"#{self.service_id} -> tariff {self.tariff_id} on {self.effective_on}"


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")


class BillingRun(models.Model):
    """One billing run for a date. Its chunks are processed (in any order, by any worker) until
    all are done; then ``report`` holds the totals: renewed, suspended, resumed, deleted,
    deferred, failed, notices and amounts charged per currency. Running ``billow bill`` for a
    date resumes that date's unfinished run, so a killed run finishes without charging twice."""

    date = models.DateField(_("billing date"))
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    started_at = models.DateTimeField(default=clock.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("billing run")
        verbose_name_plural = _("billing runs")
        indexes = [models.Index(fields=["date", "status"], name="billing_run_date_idx")]
        constraints = [
            # Two starts of one date can't both create a run (they would bill every chunk
            # twice over). Only while running: a date may be billed again after its run is
            # done (a rerun charges nothing twice and reports what is left to do).
            models.UniqueConstraint(
                fields=["date"],
                condition=Q(status=RunStatus.RUNNING),
                name="billing_run_one_running_per_date",
            )
        ]

    def __str__(self) -> str:
        return f"billing {self.date} ({self.status})"


class BillingRunChunk(models.Model):
    """The clients with ids in ``[client_from, client_to)`` (``client_to`` empty = no upper
    bound) of one run; processed in one DB transaction, ``done`` with its report at commit."""

    run = models.ForeignKey(BillingRun, on_delete=models.CASCADE, related_name="chunks")
    client_from = models.BigIntegerField()
    client_to = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    report = models.JSONField(default=dict, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "client_from"]
        verbose_name = _("billing run chunk")
        constraints = [
            models.UniqueConstraint(fields=["run", "client_from"], name="billing_chunk_unique")
        ]

    def __str__(self) -> str:
        return f"run {self.run_id} clients {self.client_from}..{self.client_to or ''}"
