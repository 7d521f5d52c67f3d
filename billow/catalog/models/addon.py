"""Addons (tariff resources), their prices, price points and enumerations (reference §1.9)."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from billow.core.periods import PERIOD_CHOICES

from .. import validators as v
from ..choices import Aggregation, BillingType, EditPolicy, StatisticsRating, ValueType
from .currency import Currency
from .tariff import Tariff


class Enumeration(models.Model):
    """A named list of values for enum addons (e.g. network bridges, disk classes)."""

    name = models.CharField(_("name"), max_length=100)
    intname = models.SlugField(_("internal name"), max_length=50, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("enumeration")

    def __str__(self) -> str:
        return self.name


class EnumerationValue(models.Model):
    """One value of an enumeration; ``intname`` must match the processing panel."""

    enumeration = models.ForeignKey(Enumeration, on_delete=models.CASCADE, related_name="values")
    name = models.CharField(_("name"), max_length=100)
    intname = models.CharField(_("internal name"), max_length=100)
    sort = models.IntegerField(_("sort"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["sort", "id"]
        verbose_name = _("enumeration value")
        constraints = [
            models.UniqueConstraint(
                fields=["enumeration", "intname"], name="catalog_enumvalue_unique_intname"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Addon(models.Model):
    """A tariff resource: what the client gets beyond the base tariff and how it is priced.

    Prices: ``unit_price_minor`` is the price of one unit for one month in ``currency``;
    ``AddonPrice`` rows give per-period (and other-currency) unit prices; ``AddonPricePoint``
    rows split the scale into sectors with their own monthly unit price (see ``pricing``).
    ``overage_price_minor`` (statistics addons) is the price, in minor units of ``currency``,
    of one ``unit`` of usage above ``included`` (e.g. unit "GiB-hour" and 0.0137 means
    0.000137 USD per GiB-hour); usage is aggregated with ``aggregation`` and rated
    ``statistics_rating``.
    """

    tariff = models.ForeignKey(Tariff, on_delete=models.CASCADE, related_name="addons")
    parent = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="children",
        help_text=_("For options of a 'client chooses one' addon."),
    )
    name = models.CharField(_("name"), max_length=100)
    intname = models.SlugField(_("internal name"), max_length=50)
    unit = models.CharField(_("unit"), max_length=20, blank=True, help_text="GiB, vCPU, IP ...")
    value_type = models.CharField(_("value type"), max_length=8, choices=ValueType.choices)
    billing_type = models.CharField(_("billing type"), max_length=16, choices=BillingType.choices)
    enumeration = models.ForeignKey(
        Enumeration, on_delete=models.PROTECT, null=True, blank=True, related_name="addons"
    )
    included = models.BigIntegerField(_("tariff includes"), default=0)
    min_value = models.BigIntegerField(_("minimum"), default=0)
    max_value = models.BigIntegerField(_("maximum"), null=True, blank=True)
    step = models.BigIntegerField(_("step"), default=1)
    default_value = models.BigIntegerField(_("default value"), default=0)
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, db_column="currency")
    unit_price_minor = models.BigIntegerField(_("unit price per month, minor units"), default=0)
    edit_policy = models.CharField(
        _("edit after order"), max_length=16, choices=EditPolicy.choices, default=EditPolicy.ANY
    )
    overage_price_minor = models.DecimalField(
        _("overage price per unit, minor units"),
        max_digits=v.RATE_MAX_DIGITS,
        decimal_places=v.RATE_DECIMAL_PLACES,
        default=Decimal(0),
    )
    statistics_rating = models.CharField(
        max_length=10, choices=StatisticsRating.choices, default=StatisticsRating.PER_MONTH
    )
    aggregation = models.CharField(max_length=4, choices=Aggregation.choices, default="sum")
    is_active = models.BooleanField(_("active"), default=True)
    sort = models.IntegerField(_("sort"), default=0)

    class Meta:
        ordering = ["sort", "id"]
        verbose_name = _("addon")
        constraints = [
            models.UniqueConstraint(fields=["tariff", "intname"], name="catalog_addon_unique"),
            models.CheckConstraint(
                condition=Q(unit_price_minor__gte=0, overage_price_minor__gte=0),
                name="catalog_addon_prices_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(step__gte=1, min_value__gte=0, included__gte=0),
                name="catalog_addon_scale_positive",
            ),
            models.CheckConstraint(
                condition=Q(max_value__isnull=True) | Q(min_value__lte=F("max_value")),
                name="catalog_addon_min_le_max",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.intname})"

    def clean(self) -> None:
        parent_type = self.parent.billing_type if self.parent_id and self.parent else None
        if self.parent_id and self.parent and self.parent.tariff_id != self.tariff_id:
            raise DjangoValidationError({"parent": _("The parent must belong to the same tariff.")})
        with v.as_django_errors():
            v.validate_addon_shape(
                value_type=self.value_type,
                billing_type=self.billing_type,
                has_enumeration=self.enumeration_id is not None,
                parent_billing_type=parent_type,
            )
            if self.value_type == ValueType.INT:
                v.validate_scale(
                    min_value=self.min_value,
                    max_value=self.max_value,
                    step=self.step,
                    included=self.included,
                    default_value=self.default_value,
                )
            elif self.value_type == ValueType.BOOL:
                v.validate_bool_scale(included=self.included, default_value=self.default_value)
            v.validate_price(self.unit_price_minor, field="unit_price_minor")
            v.validate_decimal(self.overage_price_minor, field="overage_price_minor")


class AddonPrice(models.Model):
    """The unit price of an addon for one period in one currency (overrides month x months)."""

    addon = models.ForeignKey(Addon, on_delete=models.CASCADE, related_name="prices")
    period = models.CharField(_("period"), max_length=8, choices=PERIOD_CHOICES)
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, db_column="currency")
    unit_price_minor = models.BigIntegerField(_("unit price, minor units"))

    class Meta:
        verbose_name = _("addon period price")
        constraints = [
            models.UniqueConstraint(
                fields=["addon", "period", "currency"], name="catalog_addonprice_unique"
            ),
            models.CheckConstraint(
                condition=Q(unit_price_minor__gte=0), name="catalog_addonprice_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.addon_id} {self.period}: {self.unit_price_minor} {self.currency_id}"

    def clean(self) -> None:
        if self.unit_price_minor is not None:
            with v.as_django_errors("unit_price_minor"):
                v.validate_price(self.unit_price_minor, field="unit_price_minor")


class AddonPricePoint(models.Model):
    """A special price point: units numbered ``from_value`` and above cost this per month.

    Points split an integer scale into sectors; each billed unit is priced by the sector it
    falls in (see ``pricing.price_tariff``).
    """

    addon = models.ForeignKey(Addon, on_delete=models.CASCADE, related_name="price_points")
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, db_column="currency")
    from_value = models.BigIntegerField(_("from value"))
    unit_price_minor = models.BigIntegerField(_("unit price per month, minor units"))

    class Meta:
        ordering = ["addon", "currency", "from_value"]
        verbose_name = _("addon price point")
        constraints = [
            models.UniqueConstraint(
                fields=["addon", "currency", "from_value"], name="catalog_pricepoint_unique"
            ),
            models.CheckConstraint(
                condition=Q(unit_price_minor__gte=0, from_value__gte=1),
                name="catalog_pricepoint_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.addon_id} from {self.from_value}: {self.unit_price_minor} {self.currency_id}"

    def clean(self) -> None:
        with v.as_django_errors():
            if self.unit_price_minor is not None:
                v.validate_price(self.unit_price_minor, field="unit_price_minor")
            if self.addon_id and self.from_value is not None:
                v.validate_price_point(
                    value_type=self.addon.value_type,
                    from_value=self.from_value,
                    max_value=self.addon.max_value,
                )


class EnumerationValuePrice(models.Model):
    """What choosing ``value`` for an enum ``addon`` costs per ``period`` in ``currency``."""

    addon = models.ForeignKey(Addon, on_delete=models.CASCADE, related_name="enum_prices")
    value = models.ForeignKey(EnumerationValue, on_delete=models.CASCADE, related_name="prices")
    period = models.CharField(_("period"), max_length=8, choices=PERIOD_CHOICES)
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, db_column="currency")
    amount_minor = models.BigIntegerField(_("price, minor units"))

    class Meta:
        verbose_name = _("enumeration value price")
        constraints = [
            models.UniqueConstraint(
                fields=["addon", "value", "period", "currency"], name="catalog_enumprice_unique"
            ),
            models.CheckConstraint(
                condition=Q(amount_minor__gte=0), name="catalog_enumprice_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.value_id} {self.period}: {self.amount_minor} {self.currency_id}"

    def clean(self) -> None:
        with v.as_django_errors():
            if self.amount_minor is not None:
                v.validate_price(self.amount_minor, field="amount_minor")
            if self.addon_id and self.value_id:
                v.validate_enum_value_of_addon(
                    addon_enumeration_id=self.addon.enumeration_id,
                    value_enumeration_id=self.value.enumeration_id,
                )
