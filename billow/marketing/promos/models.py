"""Promotions, their conditions and discounts, promo codes and code uses (reservations).

Limits are enforced by counters moved with conditional UPDATEs (``used < max``) in the
reserving transaction, so concurrent checkouts can never exceed them; a ``PromoCodeUse`` row is
the reservation (reserved -> confirmed | released).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billow.marketing.promos.rules import ConditionKind, DiscountKind, DiscountTarget


class Promotion(models.Model):
    """A provider's promotion: valid between ``starts_at`` and ``ends_at`` (open ends allowed),
    applied automatically when it has no codes, or through one of its ``PromoCode``s.

    Guarantees: ``uses`` never exceeds ``max_uses`` (conditional UPDATE); non-stackable
    promotions are never combined with any other on the same item.
    """

    provider = models.ForeignKey(
        "accounts.Provider", on_delete=models.PROTECT, related_name="promotions"
    )
    name = models.CharField(_("internal name"), max_length=200)
    title = models.CharField(_("name for clients"), max_length=200, blank=True)
    starts_at = models.DateTimeField(_("valid from"), null=True, blank=True)
    ends_at = models.DateTimeField(_("valid until"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    requires_code = models.BooleanField(
        _("only with a promo code"),
        default=True,
        help_text=_("Off: applied automatically to every eligible order."),
    )
    stackable = models.BooleanField(_("combines with other promotions"), default=False)
    first_order_only = models.BooleanField(_("first order only"), default=False)
    max_uses = models.PositiveIntegerField(_("total uses limit"), null=True, blank=True)
    max_uses_per_client = models.PositiveIntegerField(
        _("uses per client limit"), null=True, blank=True
    )
    uses = models.PositiveIntegerField(_("uses (reserved + confirmed)"), default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("promotion")
        verbose_name_plural = _("promotions")
        constraints = [
            models.CheckConstraint(
                condition=Q(max_uses__isnull=True) | Q(uses__lte=models.F("max_uses")),
                name="promotion_uses_within_limit",
            ),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True)
                | Q(ends_at__isnull=True)
                | Q(ends_at__gt=models.F("starts_at")),
                name="promotion_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PromotionCondition(models.Model):
    """One condition; ``group`` 0 = must hold alone, same non-zero group = OR-ed."""

    promotion = models.ForeignKey(Promotion, on_delete=models.CASCADE, related_name="conditions")
    group = models.PositiveSmallIntegerField(_("condition group"), default=0)
    kind = models.CharField(
        _("condition"), max_length=30, choices=[(k.value, k.value) for k in ConditionKind]
    )
    client_group = models.ForeignKey(
        "accounts.ClientGroup", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    value = models.PositiveIntegerField(_("value (days / count)"), default=0)

    class Meta:
        ordering = ["group", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind=ConditionKind.CLIENT_GROUP) | Q(client_group__isnull=False),
                name="promo_condition_group_needs_group",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.value or self.client_group_id or ''}".strip()


class PromotionDiscount(models.Model):
    """A discount: percent (0 < p <= 100) or a fixed amount in ``currency`` per matching line."""

    promotion = models.ForeignKey(Promotion, on_delete=models.CASCADE, related_name="discounts")
    target = models.CharField(
        _("applies to"), max_length=10, choices=[(t.value, t.value) for t in DiscountTarget]
    )
    tariff = models.ForeignKey(
        "catalog.Tariff", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    period = models.CharField(_("period"), max_length=10, blank=True)
    addon = models.CharField(_("addon internal name"), max_length=100, blank=True)
    kind = models.CharField(
        _("kind"), max_length=10, choices=[(k.value, k.value) for k in DiscountKind]
    )
    percent = models.DecimalField(_("percent"), max_digits=5, decimal_places=2, default=0)
    amount_minor = models.BigIntegerField(_("fixed amount, minor units"), default=0)
    currency = models.CharField(_("currency"), max_length=3, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="percent", percent__gt=0, percent__lte=100))
                | Q(kind="fixed", amount_minor__gt=0, currency__regex=r"^[A-Z]{3}$"),
                name="promo_discount_value_valid",
            ),
        ]

    def __str__(self) -> str:
        value = f"{self.percent}%" if self.kind == "percent" else f"{self.amount_minor}"
        return f"{value} on {self.target}"


class PromoCode(models.Model):
    """A code (stored upper-case, unique per provider) that unlocks its promotion.

    Guarantees: ``uses`` never exceeds ``max_uses`` (conditional UPDATE + CHECK constraint).
    """

    promotion = models.ForeignKey(Promotion, on_delete=models.CASCADE, related_name="codes")
    provider = models.ForeignKey("accounts.Provider", on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("code"), max_length=64)
    is_active = models.BooleanField(_("active"), default=True)
    max_uses = models.PositiveIntegerField(_("total uses limit"), null=True, blank=True)
    max_uses_per_client = models.PositiveIntegerField(
        _("uses per client limit"), null=True, blank=True
    )
    uses = models.PositiveIntegerField(_("uses (reserved + confirmed)"), default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["code"]
        verbose_name = _("promo code")
        verbose_name_plural = _("promo codes")
        constraints = [
            models.UniqueConstraint(fields=["provider", "code"], name="promo_code_unique"),
            models.CheckConstraint(
                condition=Q(max_uses__isnull=True) | Q(uses__lte=models.F("max_uses")),
                name="promo_code_uses_within_limit",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class PromoUseStatus(models.TextChoices):
    RESERVED = "reserved", _("Reserved")
    CONFIRMED = "confirmed", _("Confirmed")
    RELEASED = "released", _("Released")


class PromoCodeUse(models.Model):
    """A use of a promotion (through ``code`` or automatically) by ``client`` for ``reference``
    (e.g. ``order:17``). Reserved when payment starts, confirmed when paid, released when the
    payment fails or the order is cancelled (the counters move back then).

    Guarantees: one live use per (promotion, reference).
    """

    promotion = models.ForeignKey(Promotion, on_delete=models.PROTECT, related_name="uses_log")
    code = models.ForeignKey(
        PromoCode, null=True, blank=True, on_delete=models.PROTECT, related_name="uses_log"
    )
    client = models.ForeignKey("accounts.Client", on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(_("reference"), max_length=100)
    status = models.CharField(
        _("status"), max_length=10, choices=PromoUseStatus.choices, default=PromoUseStatus.RESERVED
    )
    discount_minor = models.BigIntegerField(_("discount, minor units"), default=0)
    currency = models.CharField(_("currency"), max_length=3)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["promotion", "client", "status"])]
        constraints = [
            models.UniqueConstraint(
                fields=["promotion", "reference"],
                condition=~Q(status="released"),
                name="promo_use_one_live_per_reference",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.promotion_id}:{self.reference} ({self.status})"
