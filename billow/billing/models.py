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
    USAGE = "usage", _("Usage over the included amount")


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

    Credit terms (BILLmanager's "overdue accounts receivable", ``billing.overdue``): an unpaid
    invoice past its due date is overdue; the respite lasts ``respite_days`` after the due date
    (``respite_unlimited``: never ends); once it is over and ``block_days`` have passed since
    the oldest unpaid invoice was issued, the client is blocked (the run suspends the services;
    a payment that settles the invoices resumes them). ``block_days`` empty: never blocked.

    ``promised_minor`` / ``promised_until``: the open promised payment (``billing.actions.
    promised``), extra credit on the days before ``promised_until``; kept after that day until
    the balance is back within the limit (until then the run suspends the services again).
    """

    client = models.ForeignKey(
        "accounts.Client", on_delete=models.CASCADE, related_name="billing_settings"
    )
    currency = models.CharField(_("currency"), max_length=3)
    credit_limit_minor = models.BigIntegerField(_("credit limit, minor units"), default=0)
    postpaid = models.BooleanField(_("post-paid"), default=False)
    respite_unlimited = models.BooleanField(_("unlimited respite"), default=False)
    respite_days = models.PositiveIntegerField(
        _("days till respite"),
        default=0,
        help_text=_("Days after an invoice's due date before the respite is over."),
    )
    block_days = models.PositiveIntegerField(
        _("block in, days"),
        null=True,
        blank=True,
        help_text=_(
            "Block (suspend the services) this many days after the oldest unpaid invoice was "
            "issued, once the respite is over. Empty: never block."
        ),
    )
    promised_minor = models.BigIntegerField(_("promised payment, minor units"), default=0)
    promised_until = models.DateField(
        _("promised payment until (exclusive)"), null=True, blank=True
    )
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
            models.CheckConstraint(
                condition=Q(promised_minor__gte=0), name="billing_settings_promise_non_negative"
            ),
        ]

    def __str__(self) -> str:
        mode = "post-paid" if self.postpaid else f"limit {self.credit_limit_minor}"
        return f"{self.client_id} {self.currency}: {mode}"


class BillingPolicy(models.Model):
    """A provider's billing settings in one currency, for one client group (``client_group``)
    or for every client (empty). A client's policy is the row of one of its groups (the lowest
    group id), else the provider's; no row: the defaults of the fields.

    - ``invoice_due_days``: a monthly invoice (post-paid charges, a credit-limit debt) is due
      this many days after it is issued.
    - promised payment: ``promised_amount_minor`` (0: not offered) for ``promised_days`` days,
      at most once every ``promised_interval_days`` days.
    - ``auto_invoice``: clients whose payer is invoiced on advance payments get an invoice for
      the renewals of the notice window (reference §1.12, ``billing.auto_invoice``).
    """

    provider = models.ForeignKey("accounts.Provider", on_delete=models.CASCADE, related_name="+")
    client_group = models.ForeignKey(
        "accounts.ClientGroup", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    currency = models.CharField(_("currency"), max_length=3)
    invoice_due_days = models.PositiveIntegerField(_("invoice due in, days"), default=14)
    promised_amount_minor = models.BigIntegerField(
        _("promised payment amount, minor units"), default=0
    )
    promised_days = models.PositiveIntegerField(_("promised payment lasts, days"), default=3)
    promised_interval_days = models.PositiveIntegerField(
        _("one promised payment every, days"), default=30
    )
    auto_invoice = models.BooleanField(_("invoice ahead of renewals"), default=False)

    class Meta:
        verbose_name = _("billing policy")
        verbose_name_plural = _("billing policies")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "client_group", "currency"],
                name="billing_policy_unique",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=Q(promised_amount_minor__gte=0), name="billing_policy_promise_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider_id}/{self.client_group_id or '*'} {self.currency}"


class PromiseStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    REPAID = "repaid", _("Repaid")
    LAPSED = "lapsed", _("Expired unpaid")
    REVOKED = "revoked", _("Revoked by staff")


class PromisedPayment(models.Model):
    """One promised payment (reference §1.14): ``amount_minor`` of extra credit on a client's
    balances in ``currency`` on the days before ``expires_on``. The open one is mirrored on
    ``ClientBillingSettings`` (what the wallet reads); this row is the history and the audit
    (who took or granted it, who revoked it). At most one active per (client, currency)."""

    client = models.ForeignKey("accounts.Client", on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(_("currency"), max_length=3)
    amount_minor = models.BigIntegerField(_("amount, minor units"))
    taken_on = models.DateField(_("taken on"))
    expires_on = models.DateField(_("expires on"))
    status = models.CharField(
        _("status"), max_length=10, choices=PromiseStatus.choices, default=PromiseStatus.ACTIVE
    )
    granted_by_staff = models.BooleanField(_("granted by staff"), default=False)
    actor = models.CharField(_("taken by"), max_length=100, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.CharField(_("closed by"), max_length=100, blank=True)
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("promised payment")
        verbose_name_plural = _("promised payments")
        constraints = [
            models.UniqueConstraint(
                fields=["client", "currency"],
                condition=Q(status="active"),
                name="promised_payment_one_active",
            ),
            models.CheckConstraint(
                condition=Q(amount_minor__gt=0), name="promised_payment_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(expires_on__gt=models.F("taken_on")),
                name="promised_payment_period_order",
            ),
        ]

    def __str__(self) -> str:
        return f"promise {self.amount_minor} {self.currency} #{self.client_id} ({self.status})"


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
    #: Wall time the chunk's job was last queued (the queue may lose a job whose consumer
    #: dies: ``redispatch_stale_chunks`` queues it again once this is old enough).
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "client_from"]
        verbose_name = _("billing run chunk")
        constraints = [
            models.UniqueConstraint(fields=["run", "client_from"], name="billing_chunk_unique")
        ]

    def __str__(self) -> str:
        return f"run {self.run_id} clients {self.client_from}..{self.client_to or ''}"
