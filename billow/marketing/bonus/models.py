"""Bonus program data: the provider's program and its rules, the clients' bonus accounts, their
point lots and the append-only journal of point movements.

Points are a count, not money: a client's points live in ``BonusAccount.balance_points`` (moved
with ``F()`` under a ``>= 0`` check constraint) and in ``BonusLot`` rows (what each accrual
credited, what is left of it and when it expires). Every change is one ``BonusMovement`` row
under a unique key, so a replayed accrual, expiry or refund writes nothing twice. Money moves
only when points pay: the redemption posts ``BONUS_REDEMPTION`` in the ledger (bonus expense ->
client balance), and a refund posts it back.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billow.marketing.bonus.rules import AmountKind, Direction, Scope, Trigger


class BonusProgram(models.Model):
    """A provider's bonus program (one per provider). Points accrue only while ``enabled`` and
    between ``starts_on`` and ``ends_on`` (inclusive), and, when ``consent_required``, only for
    clients who accepted the current ``consent_text``."""

    provider = models.OneToOneField(
        "accounts.Provider",
        on_delete=models.PROTECT,
        related_name="bonus_program",
        verbose_name=_("provider"),
    )
    enabled = models.BooleanField(_("enable work with the bonus program"), default=False)
    name = models.CharField(_("name of the bonus program"), max_length=100)
    bonus_names = models.JSONField(
        _("name of bonuses per language"),
        default=dict,
        blank=True,
        help_text=_('For example {"en": "Club points", "ru": "Клубные баллы"}.'),
    )
    icon = models.CharField(
        _("icon"), max_length=16, blank=True, help_text=_("Shown instead of the bonus name.")
    )
    starts_on = models.DateField(_("valid from"), null=True, blank=True)
    ends_on = models.DateField(_("valid until (inclusive)"), null=True, blank=True)
    consent_required = models.BooleanField(_("mandatory consent"), default=True)
    consent_text = models.TextField(_("consent text"), blank=True)
    consent_version = models.CharField(_("consent text version"), max_length=32, default="1")
    max_share_percent = models.DecimalField(
        _("maximum share of an order payable with points, %"),
        max_digits=5,
        decimal_places=2,
        default=50,
    )
    expiry_months = models.PositiveSmallIntegerField(
        _("points expire after (months)"), default=12, help_text=_("0: never.")
    )
    welcome_enabled = models.BooleanField(_("accrue welcome bonuses"), default=False)
    welcome_points = models.PositiveIntegerField(_("amount of welcome bonuses"), default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("bonus program")
        verbose_name_plural = _("bonus programs")
        constraints = [
            models.CheckConstraint(
                condition=Q(max_share_percent__gte=0) & Q(max_share_percent__lte=100),
                name="bonus_program_share_0_100",
            ),
            models.CheckConstraint(
                condition=Q(starts_on__isnull=True)
                | Q(ends_on__isnull=True)
                | Q(ends_on__gte=F("starts_on")),
                name="bonus_program_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def bonus_name(self, language: str) -> str:
        names = self.bonus_names or {}
        return str(names.get(language) or names.get("en") or "") or str(_("points"))


class BonusPointValue(models.Model):
    """What one point is worth in ``currency``, in minor units (may be a fraction)."""

    program = models.ForeignKey(BonusProgram, on_delete=models.CASCADE, related_name="values")
    currency = models.CharField(_("currency"), max_length=3)
    minor_per_point = models.DecimalField(
        _("value of a point, minor units"), max_digits=12, decimal_places=4
    )

    class Meta:
        verbose_name = _("value of a point")
        verbose_name_plural = _("values of a point")
        constraints = [
            models.UniqueConstraint(fields=["program", "currency"], name="bonus_value_uniq"),
            models.CheckConstraint(condition=Q(minor_per_point__gt=0), name="bonus_value_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.minor_per_point} {self.currency}"


class BonusTariffGroup(models.Model):
    """A named set of tariffs a rule can target."""

    provider = models.ForeignKey(
        "accounts.Provider", on_delete=models.PROTECT, related_name="bonus_tariff_groups"
    )
    name = models.CharField(_("name"), max_length=200)
    tariffs = models.ManyToManyField("catalog.Tariff", related_name="+", blank=True)

    class Meta:
        verbose_name = _("tariff group")
        verbose_name_plural = _("tariff groups")

    def __str__(self) -> str:
        return self.name


class BonusRule(models.Model):
    """An accrual or deduction rule (see ``bonus.rules`` for how rules are evaluated)."""

    program = models.ForeignKey(BonusProgram, on_delete=models.CASCADE, related_name="rules")
    name = models.CharField(_("name"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)
    direction = models.CharField(
        _("accrual or deduction"),
        max_length=10,
        choices=[(Direction.ACCRUAL, _("Accrual")), (Direction.DEDUCTION, _("Deduction"))],
        default=Direction.ACCRUAL,
    )
    kind = models.CharField(
        _("amount"),
        max_length=10,
        choices=[
            (AmountKind.FIXED, _("Fixed points")),
            (AmountKind.PERCENT, _("Percent of the charged amount (net)")),
        ],
        default=AmountKind.FIXED,
    )
    points = models.PositiveIntegerField(_("points"), default=0)
    percent = models.DecimalField(_("percent"), max_digits=6, decimal_places=3, default=0)
    scope = models.CharField(
        _("applies to"),
        max_length=20,
        choices=[
            (Scope.ALL, _("All")),
            (Scope.PRODUCT_TYPES, _("Product types")),
            (Scope.TARIFF_GROUPS, _("Tariff groups")),
            (Scope.TARIFFS, _("Tariffs")),
        ],
        default=Scope.ALL,
    )
    product_types = models.ManyToManyField("catalog.ProductType", related_name="+", blank=True)
    tariff_groups = models.ManyToManyField(BonusTariffGroup, related_name="rules", blank=True)
    tariffs = models.ManyToManyField("catalog.Tariff", related_name="+", blank=True)
    trigger = models.CharField(
        _("trigger"),
        max_length=20,
        choices=[
            (Trigger.FIRST_PURCHASE, _("First purchase")),
            (Trigger.REPEAT_PURCHASE, _("Repeat purchase")),
            (Trigger.RENEWAL, _("Renewal")),
            (Trigger.TOPUP, _("Top-up")),
            (Trigger.MANUAL, _("Manual")),
        ],
    )
    priority = models.IntegerField(_("priority"), default=100, help_text=_("Lower runs first."))
    stop_after = models.BooleanField(_("stop after this rule"), default=False)
    client_groups = models.ManyToManyField(
        "accounts.ClientGroup", related_name="+", blank=True, verbose_name=_("client groups")
    )
    min_amount_minor = models.BigIntegerField(_("minimum amount, minor units"), default=0)
    min_amount_currency = models.CharField(_("minimum amount currency"), max_length=3, blank=True)
    nth_purchase = models.PositiveIntegerField(_("n-th purchase"), null=True, blank=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid until (inclusive)"), null=True, blank=True)

    class Meta:
        ordering = ["priority", "id"]
        verbose_name = _("bonus rule")
        verbose_name_plural = _("bonus rules")
        constraints = [
            models.CheckConstraint(condition=Q(percent__gte=0), name="bonus_rule_percent_gte_0"),
            models.CheckConstraint(
                condition=Q(min_amount_minor__gte=0), name="bonus_rule_min_amount_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class BonusAccountStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    OFF = "off", _("Turned off")


class BonusAccount(models.Model):
    """A client's bonus account with a provider: created once (the welcome bonus is keyed by
    it, so turning it off and on never credits it again). ``balance_points`` equals the sum of
    its lots' ``remaining`` and of its movements' points, and is never negative."""

    provider = models.ForeignKey(
        "accounts.Provider", on_delete=models.PROTECT, related_name="bonus_accounts"
    )
    client = models.ForeignKey(
        "accounts.Client", on_delete=models.PROTECT, related_name="bonus_accounts"
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=BonusAccountStatus.choices,
        default=BonusAccountStatus.ACTIVE,
    )
    balance_points = models.BigIntegerField(_("points"), default=0, editable=False)
    consent_version = models.CharField(_("consent version"), max_length=32, blank=True)
    consented_at = models.DateTimeField(_("consent given"), null=True, blank=True)
    consent_ip = models.GenericIPAddressField(_("consent IP"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("bonus account")
        verbose_name_plural = _("bonus accounts")
        permissions = [("adjust_points", "Can accrue and deduct bonus points manually")]
        constraints = [
            models.UniqueConstraint(fields=["provider", "client"], name="bonus_account_uniq"),
            models.CheckConstraint(
                condition=Q(balance_points__gte=0), name="bonus_account_points_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client} @ {self.provider}"


class BonusConsent(models.Model):
    """Each consent a client gave: the text's version, the time and the IP (append-only)."""

    account = models.ForeignKey(BonusAccount, on_delete=models.PROTECT, related_name="consents")
    version = models.CharField(_("version"), max_length=32)
    given_at = models.DateTimeField(_("given"))
    ip = models.GenericIPAddressField(_("IP"), null=True, blank=True)
    actor_kind = models.CharField(max_length=20, default="system")
    actor_id = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-given_at", "-id"]
        verbose_name = _("bonus consent")
        verbose_name_plural = _("bonus consents")

    def __str__(self) -> str:
        return f"v{self.version} {self.given_at:%Y-%m-%d %H:%M} {self.ip or ''}"


class MovementKind(models.TextChoices):
    WELCOME = "welcome", _("Welcome bonus")
    ACCRUAL = "accrual", _("Accrual")
    DEDUCTION = "deduction", _("Deduction by a rule")
    REDEMPTION = "redemption", _("Paid with points")
    RETURN = "return", _("Points returned")
    EXPIRY = "expiry", _("Expired")
    REVERSAL = "reversal", _("Accrual reversed (refund)")
    MANUAL_ACCRUAL = "manual_accrual", _("Manual accrual")
    MANUAL_DEDUCTION = "manual_deduction", _("Manual deduction")


class BonusMovement(models.Model):
    """One change of a bonus account (append-only): ``points`` signed, under a unique ``key``.

    ``source`` says what caused it (``order:12``, ``charge:<service>:<from>``, ``payment:5``,
    ``lot:7``, staff); ``base_minor`` is the net amount a rule computed on; ``money_minor`` the
    money the points paid or got back (redemption, return); ``details`` keeps the lots spent
    and, for accruals, the points per charged line (proportional reversal)."""

    account = models.ForeignKey(BonusAccount, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(_("kind"), max_length=20, choices=MovementKind.choices)
    points = models.BigIntegerField(_("points"))
    key = models.CharField(_("key"), max_length=200, unique=True)
    trigger = models.CharField(_("trigger"), max_length=20, blank=True)
    rule = models.ForeignKey(
        BonusRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source = models.CharField(_("source"), max_length=200, blank=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    base_minor = models.BigIntegerField(_("base amount, minor units"), default=0)
    money_minor = models.BigIntegerField(_("money, minor units"), default=0)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    actor_kind = models.CharField(max_length=20, default="system")
    actor_id = models.CharField(max_length=100, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("date"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("bonus movement")
        verbose_name_plural = _("bonus movements")
        indexes = [models.Index(fields=["account", "created_at"], name="bonus_move_account")]
        constraints = [
            models.CheckConstraint(condition=~Q(points=0), name="bonus_movement_nonzero"),
        ]

    def __str__(self) -> str:
        return f"{self.points:+d} {self.kind}"


class BonusLot(models.Model):
    """The points one crediting movement gave (accrual, welcome, manual) and what is left of
    them; spent oldest first (by expiry, then creation), expired by the expiry job."""

    account = models.ForeignKey(BonusAccount, on_delete=models.PROTECT, related_name="lots")
    movement = models.OneToOneField(BonusMovement, on_delete=models.PROTECT, related_name="lot")
    points = models.BigIntegerField(_("points"))
    remaining = models.BigIntegerField(_("left"))
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["expires_on", "id"]
        verbose_name = _("bonus lot")
        verbose_name_plural = _("bonus lots")
        indexes = [models.Index(fields=["expires_on"], name="bonus_lot_expiry")]
        constraints = [
            models.CheckConstraint(
                condition=Q(remaining__gte=0) & Q(remaining__lte=F("points")),
                name="bonus_lot_remaining_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.remaining}/{self.points} until {self.expires_on or '-'}"


class BonusRedemptionShare(models.Model):
    """The part of an order's redemption that paid one of its charges (allocated by the
    charges' amounts when the order is settled), so a refund of that charge returns its share
    of points and takes back its share of money."""

    movement = models.ForeignKey(
        BonusMovement, on_delete=models.PROTECT, related_name="charge_shares"
    )
    charge_key = models.CharField(_("charge"), max_length=200)
    charged_minor = models.BigIntegerField(_("charged, minor units"))
    points = models.BigIntegerField(_("points"))
    money_minor = models.BigIntegerField(_("money, minor units"))

    class Meta:
        verbose_name = _("redemption share")
        verbose_name_plural = _("redemption shares")
        constraints = [
            models.UniqueConstraint(
                fields=["movement", "charge_key"], name="bonus_share_uniq_charge"
            ),
        ]
        indexes = [models.Index(fields=["charge_key"], name="bonus_share_charge")]

    def __str__(self) -> str:
        return f"{self.points} points / {self.money_minor} for {self.charge_key}"
