"""What rating and the resource status keep (issue 14, items 3 and 4): the overage charged per
service, meter and period, and each service's status on each meter for the current period.

Imported by ``usage.models`` (Django finds the app's models there); the foreign keys name their
models by label so this module imports none of them.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from billow.core import clock


def _value(verbose: Any) -> models.DecimalField:
    """A usage amount column, as ``usage.models.value_field`` makes them (repeated, not
    imported, because ``usage.models`` imports this module)."""
    return models.DecimalField(verbose, max_digits=24, decimal_places=6)


class UsageCharge(models.Model):
    """The overage charged so far for a service's usage on a meter over one rating period
    ``[period_from, period_to)``: ``charged_minor`` in ``currency``, for ``value`` units used
    (the value last rated). Written by the billing run in the transaction of the charge
    (``usage.charges.record_overage_charges``); a re-rate charges only what is due beyond
    ``charged_minor``."""

    service = models.ForeignKey("services.Service", on_delete=models.CASCADE, related_name="+")
    meter = models.ForeignKey("usage.Meter", on_delete=models.CASCADE, related_name="charges")
    period_from = models.DateField(_("from"))
    period_to = models.DateField(_("to (exclusive)"))
    value = _value(_("usage rated"))
    overage = _value(_("overage"))
    charged_minor = models.BigIntegerField(_("charged, minor units"))
    currency = models.CharField(_("currency"), max_length=3)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["service_id", "meter_id", "period_from"]
        verbose_name = _("overage charge")
        verbose_name_plural = _("overage charges")
        constraints = [
            models.UniqueConstraint(
                fields=["service", "meter", "period_from"], name="usage_charge_one_per_period"
            ),
            models.CheckConstraint(
                condition=models.Q(charged_minor__gte=0), name="usage_charge_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_id}/{self.meter_id} {self.period_from}: {self.charged_minor}"


class ResourceState(models.TextChoices):
    NORMAL = "normal", _("Normal")
    APPROACHING = "approaching", _("Approaching the included amount")
    EXCEEDED = "exceeded", _("Over the included amount")


class ResourceStatus(models.Model):
    """A service's usage on a meter in the current rating period (the month, or the day for
    per-day addons) against the addon's included amount: normal, approaching (at least
    ``USAGE_APPROACHING_PERCENT`` of it) or exceeded. ``over_limit``: the usage reached the
    meter's limit, and the service was suspended over limit for it. Refreshed on ingest
    (``usage.status.refresh``), reset when a new period starts (``usage.status.reset_statuses``,
    daily)."""

    service = models.ForeignKey("services.Service", on_delete=models.CASCADE, related_name="+")
    meter = models.ForeignKey("usage.Meter", on_delete=models.CASCADE, related_name="statuses")
    period_from = models.DateField(_("period from"))
    value = _value(_("used"))
    included = _value(_("included"))
    state = models.CharField(
        _("status"), max_length=12, choices=ResourceState.choices, default=ResourceState.NORMAL
    )
    over_limit = models.BooleanField(_("over the limit"), default=False)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["service_id", "meter_id"]
        verbose_name = _("resource status")
        verbose_name_plural = _("resource statuses")
        constraints = [
            models.UniqueConstraint(fields=["service", "meter"], name="usage_status_one_per_meter"),
        ]
        indexes = [
            # the staff list of approaching and exceeded rows; the reset's over-limit rows
            models.Index(
                fields=["state"],
                condition=~models.Q(state="normal"),
                name="usage_status_not_normal",
            ),
            models.Index(
                fields=["meter"], condition=models.Q(over_limit=True), name="usage_status_over"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_id}/{self.meter_id}: {self.state} ({self.value})"
