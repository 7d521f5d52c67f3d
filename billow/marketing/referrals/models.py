"""Referral program rows: programs and rules, partners (referrers), clicks, referrals, the
charges seen, accruals per rule and charge, daily rewards, monthly payouts and the history.

Money is int minor units in the program's currency. Rewards move through the ledger: an accrual
day posts provider referral expense -> the partner's referral payable; the payout on the 1st
moves payable -> the partner's balance (or, above the bank threshold, waits for staff, who
confirm it as paid out through the bank). Unique keys make every step rerun-safe.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billow.core.audit import AuditEvent
from billow.marketing.referrals.rules import AccrualMoment, AccrualType, Condition, Frequency

TEMPLATE_MACRO = "@ID@"


class ReferralProgram(models.Model):
    """A provider's referral program (reference §2.2).

    Rewards are earned on charges made from ``starts_on`` through ``ends_on`` (inclusive), in
    ``currency``, within ``referral_period_months`` of the referral joining. A promo-code
    template must contain ``@ID@`` (replaced by the partner id); the codes belong to
    ``promotion``, a first-order-only promotion giving the referral
    ``referral_discount_percent`` off.
    """

    provider = models.ForeignKey(
        "accounts.Provider", on_delete=models.PROTECT, related_name="referral_programs"
    )
    name = models.CharField(_("name"), max_length=200)
    currency = models.CharField(_("currency"), max_length=3)
    starts_on = models.DateField(_("start date"), help_text=_("Rewards for charges from this day."))
    ends_on = models.DateField(
        _("end date"), null=True, blank=True, help_text=_("Active through this day inclusive.")
    )
    website_url = models.URLField(
        _("website URL"), blank=True, help_text=_("Referral links are this URL plus ?from=<id>.")
    )
    promo_code_template = models.CharField(
        _("promo code template"),
        max_length=48,
        blank=True,
        help_text=_("Must contain @ID@, replaced by the partner id. Works on a first order only."),
    )
    referral_discount_percent = models.DecimalField(
        _("referral's discount with the code, %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    promotion = models.ForeignKey(
        "marketing.Promotion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    assign_automatically = models.BooleanField(
        _("assign automatically"), default=False, help_text=_("New clients become partners.")
    )
    allowed_groups = models.ManyToManyField(
        "accounts.ClientGroup", blank=True, related_name="+", verbose_name=_("allowed groups")
    )
    forbidden_groups = models.ManyToManyField(
        "accounts.ClientGroup", blank=True, related_name="+", verbose_name=_("forbidden groups")
    )
    referral_period_months = models.PositiveSmallIntegerField(
        _("referral period, months"), null=True, blank=True, help_text=_("Empty: no limit.")
    )
    bank_payout_threshold_minor = models.BigIntegerField(
        _("bank payout above, minor units"),
        null=True,
        blank=True,
        help_text=_("A payout above this waits for staff to pay it by bank. Empty: never."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("referral program")
        verbose_name_plural = _("referral programs")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="referral_program_dates_ordered",
            ),
            models.UniqueConstraint(
                fields=["provider"],
                condition=Q(assign_automatically=True, is_active=True),
                name="referral_program_one_automatic",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ReferralRule(models.Model):
    """One reward rule of a program (see ``referrals.rules``). Every active rule earns on its
    own; a partner's reward rows are per rule and day."""

    program = models.ForeignKey(ReferralProgram, on_delete=models.CASCADE, related_name="rules")
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    accrual_type = models.CharField(
        _("accrual type"),
        max_length=10,
        choices=[
            (AccrualType.FIXED, _("Fixed amount")),
            (AccrualType.PERCENT, _("Percent of charges")),
        ],
    )
    percent = models.DecimalField(_("percent"), max_digits=5, decimal_places=2, default=0)
    amount_minor = models.BigIntegerField(_("fixed amount, minor units"), default=0)
    moment = models.CharField(
        _("accrual moment"),
        max_length=12,
        default=AccrualMoment.ON_CHARGE,
        choices=[
            (AccrualMoment.ON_CHARGE, _("On charge")),
            (AccrualMoment.ON_PAYMENT, _("On payment")),
            (AccrualMoment.DAYS_AFTER, _("N days after the charge")),
        ],
    )
    moment_days = models.PositiveSmallIntegerField(_("days after the charge"), default=0)
    frequency = models.CharField(
        _("frequency"),
        max_length=10,
        default=Frequency.EVERY,
        choices=[
            (Frequency.EVERY, _("Every charge")),
            (Frequency.FIRST_N, _("First N charges")),
            (Frequency.ONCE, _("Once")),
        ],
    )
    frequency_count = models.PositiveSmallIntegerField(_("N (first charges)"), default=0)
    condition = models.CharField(
        _("condition"),
        max_length=10,
        default=Condition.ALWAYS,
        choices=[
            (Condition.ALWAYS, _("Always")),
            (Condition.TURNOVER, _("By turnover of an individual referral")),
        ],
    )
    turnover_minor = models.BigIntegerField(_("turnover at least, minor units"), default=0)
    turnover_days = models.PositiveSmallIntegerField(_("turnover period, days"), default=30)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("referral rule")
        verbose_name_plural = _("referral rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(accrual_type="percent", percent__gt=0, percent__lte=100)
                | Q(accrual_type="fixed", amount_minor__gt=0),
                name="referral_rule_value_valid",
            ),
            models.CheckConstraint(
                condition=~Q(frequency="first_n") | Q(frequency_count__gt=0),
                name="referral_rule_first_n_count",
            ),
        ]

    def __str__(self) -> str:
        value = f"{self.percent}%" if self.accrual_type == "percent" else str(self.amount_minor)
        return f"#{self.pk} {value} {self.moment} {self.frequency}"


class ReferralPartner(models.Model):
    """A client taking part in a program as a referrer. Its id is the ``?from=`` value and the
    ``@ID@`` of its promo code."""

    program = models.ForeignKey(ReferralProgram, on_delete=models.PROTECT, related_name="partners")
    client = models.ForeignKey("accounts.Client", on_delete=models.PROTECT, related_name="+")
    promo_code = models.ForeignKey(
        "marketing.PromoCode", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    joined_at = models.DateTimeField(_("joined"), default=timezone.now)

    class Meta:
        ordering = ["id"]
        verbose_name = _("referrer")
        verbose_name_plural = _("referrers")
        constraints = [
            models.UniqueConstraint(fields=["program", "client"], name="referral_partner_once"),
        ]

    def __str__(self) -> str:
        return f"partner {self.pk} (client {self.client_id})"


class ReferralClick(models.Model):
    """A visit through a partner's link; ``token`` is the click id an external site passes on
    sign-up (random, so ids cannot be guessed)."""

    partner = models.ForeignKey(ReferralPartner, on_delete=models.CASCADE, related_name="clicks")
    token = models.CharField(max_length=32, unique=True)
    url = models.CharField(_("link"), max_length=500)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["partner", "created_at"])]

    def __str__(self) -> str:
        return f"click {self.token[:8]} of partner {self.partner_id}"


class ReferralSource(models.TextChoices):
    LINK = "link", _("Referral link")
    PROMO_CODE = "promo_code", _("Promo code")
    MANUAL = "manual", _("Manually")


class Referral(models.Model):
    """A client brought by a partner. Rewards are earned on its charges from ``joined_at``
    until ``reward_until`` (the referral period; None: no limit) while it is linked.

    Guarantees: a client is the live referral of at most one partner (partial unique).
    """

    partner = models.ForeignKey(ReferralPartner, on_delete=models.PROTECT, related_name="referrals")
    client = models.ForeignKey("accounts.Client", on_delete=models.PROTECT, related_name="+")
    source = models.CharField(_("source"), max_length=12, choices=ReferralSource.choices)
    source_detail = models.CharField(_("from"), max_length=500, blank=True)
    click = models.ForeignKey(
        ReferralClick, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    joined_at = models.DateTimeField(_("join date"))
    reward_until = models.DateTimeField(_("rewards until"), null=True, blank=True)
    unlinked_at = models.DateTimeField(_("unlinked"), null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        constraints = [
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(unlinked_at__isnull=True),
                name="referral_one_live_per_client",
            ),
        ]

    def __str__(self) -> str:
        return f"client {self.client_id} via partner {self.partner_id}"


class ReferralCharge(models.Model):
    """A charge (net > 0) or refund (net < 0) of a referral as billing recorded it
    (its id is billing's expense id, so it is stored once). Every charge is kept for the
    partner's figures;
    ``eligible`` says whether it may earn (program dates, referral period, currency)."""

    id = models.BigIntegerField(primary_key=True, help_text=_("billing's expense id"))
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="charges")
    service_id = models.BigIntegerField()
    period_from = models.DateField()
    period_to = models.DateField()
    net_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    charged_at = models.DateTimeField()
    eligible = models.BooleanField(default=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["charged_at", "id"]
        indexes = [
            models.Index(fields=["referral", "charged_at"]),
            models.Index(fields=["service_id", "period_from"]),
        ]

    def __str__(self) -> str:
        return f"charge {self.pk}: {self.net_minor} {self.currency}"


class ReferralReward(models.Model):
    """A partner's reward under one rule for one day: the day's accruals less reversals.

    Guarantees: one row per (partner, rule, day, run day) — a run sums every accrual due that
    day, so there is one per day unless a late charge reaches a day already rewarded; its
    ledger transaction is keyed ``referral:reward:<id>`` and posted in the transaction that
    inserts the row; ``payout`` is set once it is paid out.
    """

    partner = models.ForeignKey(ReferralPartner, on_delete=models.PROTECT, related_name="rewards")
    rule = models.ForeignKey(ReferralRule, on_delete=models.PROTECT, related_name="rewards")
    day = models.DateField(_("date"))
    amount_minor = models.BigIntegerField(_("amount, minor units"))
    currency = models.CharField(max_length=3)
    run_day = models.DateField(_("accrued by the run of"))
    payout = models.ForeignKey(
        "ReferralPayout", null=True, blank=True, on_delete=models.SET_NULL, related_name="rewards"
    )

    class Meta:
        ordering = ["-day", "id"]
        verbose_name = _("referral reward")
        verbose_name_plural = _("referral rewards")
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "rule", "day", "run_day"], name="referral_reward_day"
            ),
        ]
        indexes = [
            models.Index(
                fields=["partner", "day"],
                condition=Q(payout__isnull=True),
                name="referral_reward_unpaid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} partner {self.partner_id} rule {self.rule_id}: {self.amount_minor}"


class ReferralAccrual(models.Model):
    """What one rule earned on one charge (``amount_minor`` > 0), or took back on a refund
    (< 0, ``charge`` is the refund). ``reward`` is set when the day's reward includes it.
    ``reversed_minor``: what refunds took back in all; ``withheld_minor``: the part of it taken
    before the reward (the reward counted ``amount - withheld``; later reversals are negative
    accruals of their own).

    Guarantees: one row per (rule, charge), so a rerun accrues nothing twice.
    """

    rule = models.ForeignKey(ReferralRule, on_delete=models.PROTECT, related_name="+")
    partner = models.ForeignKey(ReferralPartner, on_delete=models.PROTECT, related_name="+")
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="accruals")
    charge = models.ForeignKey(ReferralCharge, on_delete=models.PROTECT, related_name="accruals")
    amount_minor = models.BigIntegerField()
    reversed_minor = models.BigIntegerField(default=0)
    withheld_minor = models.BigIntegerField(default=0)
    due_on = models.DateField(null=True, blank=True)
    reward = models.ForeignKey(
        ReferralReward, null=True, blank=True, on_delete=models.PROTECT, related_name="accruals"
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "charge"], name="referral_accrual_once"),
        ]
        indexes = [
            models.Index(
                fields=["due_on"], condition=Q(reward__isnull=True), name="referral_accrual_pending"
            )
        ]

    def __str__(self) -> str:
        return f"rule {self.rule_id} on charge {self.charge_id}: {self.amount_minor}"


class PayoutMethod(models.TextChoices):
    BALANCE = "balance", _("To the balance")
    BANK = "bank", _("By bank")


class PayoutStatus(models.TextChoices):
    PAID = "paid", _("Paid")
    AWAITING = "awaiting", _("Awaiting staff confirmation")
    REJECTED = "rejected", _("Rejected")


class ReferralPayout(models.Model):
    """The payout of a partner's unpaid rewards dated before ``month`` (the 1st).

    Guarantees: one per (partner, month, currency), so a rerun of the 1st pays once; the
    ledger transaction is keyed ``referral:payout:<partner>:<month>:<currency>``.
    """

    partner = models.ForeignKey(ReferralPartner, on_delete=models.PROTECT, related_name="payouts")
    month = models.DateField(_("paid on"))
    currency = models.CharField(max_length=3)
    amount_minor = models.BigIntegerField(_("amount, minor units"))
    method = models.CharField(_("method"), max_length=10, choices=PayoutMethod.choices)
    status = models.CharField(_("status"), max_length=10, choices=PayoutStatus.choices)
    decided_by = models.CharField(_("decided by"), max_length=100, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-month", "id"]
        verbose_name = _("referral payout")
        verbose_name_plural = _("referral payouts")
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "month", "currency"], name="referral_payout_once"
            ),
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="referral_payout_pos"),
        ]

    def __str__(self) -> str:
        return f"{self.month} partner {self.partner_id}: {self.amount_minor} {self.currency}"


class ReferralRunDay(models.Model):
    """A day the referral job finished: charges created before ``through`` were seen."""

    day = models.DateField(unique=True)
    through = models.DateTimeField()
    report = models.JSONField(default=dict)
    finished_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"referral run {self.day}"


class ReferralEvent(AuditEvent):
    """The change history of programs, partners and referrals (who, what, when)."""

    program = models.ForeignKey(
        ReferralProgram, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )

    class Meta:
        ordering = ["-id"]
        verbose_name = _("referral program change")
        verbose_name_plural = _("referral program changes")
