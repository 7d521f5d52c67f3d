"""Tariff plans and their period prices (reference §1.8)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billow.core.periods import BILLING_MODE_CHOICES, PERIOD_CHOICES, BillingMode

from .. import validators as v
from ..choices import TariffStatus
from .currency import Currency
from .product import ProductType


class Tariff(models.Model):
    """A service template a provider sells: period prices, addons, policy and visibility.

    ``provider`` and ``product_type`` are fixed at creation (``actions.update_tariff`` refuses
    to change them; the admin shows them read-only once saved).
    Visibility: when ``visible_to_groups`` is non-empty only members of those groups may order;
    members of ``hidden_from_groups`` may never order.
    """

    provider = models.ForeignKey(
        "accounts.Provider", on_delete=models.PROTECT, related_name="tariffs"
    )
    product_type = models.ForeignKey(ProductType, on_delete=models.PROTECT, related_name="tariffs")
    name = models.CharField(_("name"), max_length=200)
    status = models.CharField(
        _("status"), max_length=10, choices=TariffStatus.choices, default=TariffStatus.ACTIVE
    )
    billing_mode = models.CharField(
        _("billing mode"),
        max_length=12,
        choices=BILLING_MODE_CHOICES,
        default=BillingMode.ANNIVERSARY.value,
    )
    prorata_day = models.PositiveSmallIntegerField(
        _("pro-rata day"),
        default=1,
        help_text=_(
            "Calendar billing: ordered before this day, the first period ends at the end of the "
            "month; on or after it, at the end of the next month."
        ),
    )
    order_limit = models.PositiveIntegerField(
        _("services per account"), null=True, blank=True, help_text=_("Empty: unlimited.")
    )
    trial_days = models.PositiveIntegerField(_("trial days"), default=0)
    visible_to_groups = models.ManyToManyField(
        "accounts.ClientGroup", blank=True, related_name="visible_tariffs"
    )
    hidden_from_groups = models.ManyToManyField(
        "accounts.ClientGroup", blank=True, related_name="hidden_tariffs"
    )
    sort = models.IntegerField(_("sort"), default=0)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["sort", "name"]
        verbose_name = _("tariff")
        verbose_name_plural = _("tariffs")
        constraints = [
            models.CheckConstraint(
                condition=Q(prorata_day__gte=v.PRORATA_DAY_MIN, prorata_day__lte=v.PRORATA_DAY_MAX),
                name="catalog_tariff_prorata_day",
            ),
            models.UniqueConstraint(fields=["provider", "name"], name="catalog_tariff_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.prorata_day is not None:
            with v.as_django_errors("prorata_day"):
                v.validate_prorata_day(self.prorata_day)


class TariffPrice(models.Model):
    """The price of one period of a tariff in one currency, plus a one-off setup fee.

    A period without a row for a currency is not offered in that currency.
    """

    tariff = models.ForeignKey(Tariff, on_delete=models.CASCADE, related_name="prices")
    period = models.CharField(_("period"), max_length=8, choices=PERIOD_CHOICES)
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, db_column="currency")
    amount_minor = models.BigIntegerField(_("price, minor units"), default=0)
    setup_fee_minor = models.BigIntegerField(_("setup fee, minor units"), default=0)

    class Meta:
        ordering = ["tariff", "currency", "period"]
        verbose_name = _("tariff price")
        constraints = [
            models.UniqueConstraint(
                fields=["tariff", "period", "currency"], name="catalog_tariffprice_unique"
            ),
            models.CheckConstraint(
                condition=Q(amount_minor__gte=0, setup_fee_minor__gte=0),
                name="catalog_tariffprice_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tariff_id} {self.period} {self.amount_minor} {self.currency_id}"

    def clean(self) -> None:
        for field in ("amount_minor", "setup_fee_minor"):
            value = getattr(self, field)
            if value is not None:
                with v.as_django_errors(field):
                    v.validate_price(value, field=field)
