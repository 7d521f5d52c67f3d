"""Product types and their parameters (reference §1.7)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .. import validators as v
from ..choices import DeletionPolicy, DowngradePolicy


class ProductType(models.Model):
    """A kind of product (vps, dedicated, s3 ...); processing modules are chosen by ``intname``.

    Holds the lifecycle policies billing applies to every service of this type.
    """

    name = models.CharField(_("name"), max_length=100)
    intname = models.SlugField(_("internal name"), max_length=50, unique=True)
    deletion_policy = models.CharField(
        _("deletion policy"),
        max_length=20,
        choices=DeletionPolicy.choices,
        default=DeletionPolicy.AFTER_AUTO_DELETE,
    )
    auto_delete_days = models.PositiveIntegerField(
        _("auto-delete period, days"),
        default=14,
        help_text=_("Days a service stays suspended for non-payment before it is deleted."),
    )
    no_suspend_weekends = models.BooleanField(_("do not suspend on weekends"), default=False)
    split_expense_monthly = models.BooleanField(
        _("split long-period charges monthly"), default=False
    )
    downgrade_policy = models.CharField(
        _("downgrade policy"),
        max_length=20,
        choices=DowngradePolicy.choices,
        default=DowngradePolicy.PERIOD_END,
    )
    sort = models.IntegerField(_("sort"), default=0)

    class Meta:
        ordering = ["sort", "name"]
        verbose_name = _("product type")
        verbose_name_plural = _("product types")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.intname:
            with v.as_django_errors("intname"):
                v.validate_intname(self.intname)


class ProductTypeParameter(models.Model):
    """A service parameter chosen at order time (e.g. operating system), not priced itself."""

    product_type = models.ForeignKey(
        ProductType, on_delete=models.CASCADE, related_name="parameters"
    )
    name = models.CharField(_("name"), max_length=100)
    intname = models.SlugField(_("internal name"), max_length=50)
    required = models.BooleanField(_("required"), default=True)
    sort = models.IntegerField(_("sort"), default=0)

    class Meta:
        ordering = ["sort", "id"]
        verbose_name = _("product type parameter")
        constraints = [
            models.UniqueConstraint(
                fields=["product_type", "intname"], name="catalog_param_unique_intname"
            )
        ]

    def __str__(self) -> str:
        return self.name


class ParameterValue(models.Model):
    """One allowed value of a parameter; ``intname`` must match the processing panel."""

    parameter = models.ForeignKey(
        ProductTypeParameter, on_delete=models.CASCADE, related_name="values"
    )
    name = models.CharField(_("name"), max_length=100)
    intname = models.CharField(_("internal name"), max_length=100)
    sort = models.IntegerField(_("sort"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["sort", "id"]
        verbose_name = _("parameter value")
        constraints = [
            models.UniqueConstraint(
                fields=["parameter", "intname"], name="catalog_paramvalue_unique_intname"
            ),
            models.CheckConstraint(condition=~Q(intname=""), name="catalog_paramvalue_intname"),
        ]

    def __str__(self) -> str:
        return self.name
