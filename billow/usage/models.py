"""Meters, raw usage records and their rollups (issue 14; reference §1.20, §2.8).

The raw table ``UsageRecord`` is partitioned by day on PostgreSQL (``usage.storage``); every
rollup is maintained incrementally on ingest from the records that were new, never by
rescanning raw rows: ``ParameterDaily`` keeps the per-parameter statistics of a day (sum, count,
max, last), ``UsageDaily`` the meter's value of a day and ``UsageMonthly`` of a calendar month.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from billow.core import clock

# Rating's and the resource status's models live beside rating (h4); imported here so Django
# registers them with the app.
from billow.usage.rating_models import (  # noqa: F401
    ResourceState,
    ResourceStatus,
    UsageCharge,
)

#: Usage values: up to 10^18 units with 6 decimals (bytes of a month of traffic fit).
VALUE_MAX_DIGITS = 24
VALUE_DECIMAL_PLACES = 6


def value_field(verbose: Any, **kwargs: Any) -> models.DecimalField:
    return models.DecimalField(
        verbose,
        max_digits=VALUE_MAX_DIGITS,
        decimal_places=VALUE_DECIMAL_PLACES,
        **kwargs,
    )


class Combine(models.TextChoices):
    """How the aggregated values of a meter's parameters make one value."""

    SUM = "sum", _("Sum of the parameters")
    MAX = "max", _("Largest of the parameters")


class Meter(models.Model):
    """What a statistics addon counts: the parameters a module or the API reports, combined.

    Included amount, overage price, rating period (per day / per month) and aggregation
    (sum / max / last / average over a day's records and over a month's days) stay on the addon.
    ``limit``: usage of the rating period beyond which the service is suspended "over limit".
    """

    addon = models.OneToOneField("catalog.Addon", on_delete=models.CASCADE, related_name="meter")
    parameters = models.JSONField(_("parameters"), default=list)
    combine = models.CharField(
        _("combine parameters"), max_length=4, choices=Combine.choices, default=Combine.SUM
    )
    unit = models.CharField(_("unit"), max_length=20, blank=True, default="")
    limit = value_field(_("limit"), null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        ordering = ["id"]
        verbose_name = _("meter")
        verbose_name_plural = _("meters")
        constraints = [
            models.CheckConstraint(
                condition=Q(limit__isnull=True) | Q(limit__gte=0), name="usage_meter_limit_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.addon_id}: {'+'.join(self.parameters)}"


class UsageRecord(models.Model):
    """One raw measurement: ``value`` of ``parameter`` for a service at ``ts`` (UTC).

    Unique by ``(service, event_id, ts)`` when the sender gave an event id, else by
    ``(service, parameter, ts)``: a record sent twice is stored once. On PostgreSQL the table is
    partitioned by range of ``ts``, one partition per UTC day (``usage.storage``); there the
    unique keys include ``ts`` because a partitioned table's keys must. ``service_id`` is a plain
    column, not a foreign key: records outlive deleted services until retention drops them.
    """

    service_id = models.BigIntegerField()
    parameter = models.CharField(max_length=64)
    ts = models.DateTimeField()
    value = value_field(_("value"))
    event_id = models.CharField(max_length=128, null=True, blank=True)
    received_at = models.DateTimeField(default=clock.now)

    class Meta:
        verbose_name = _("usage record")
        verbose_name_plural = _("usage records")
        constraints = [
            models.UniqueConstraint(
                fields=["service_id", "parameter", "ts"],
                condition=Q(event_id__isnull=True),
                name="usage_record_unique_ts",
            ),
            models.UniqueConstraint(
                fields=["service_id", "event_id", "ts"],
                condition=Q(event_id__isnull=False),
                name="usage_record_unique_event",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_id} {self.parameter}@{self.ts:%Y-%m-%d %H:%M:%S}={self.value}"


class ParameterDaily(models.Model):
    """Statistics of one parameter of one service over one UTC day, from every record stored:
    ``total`` / ``count`` (sum, average), ``maximum``, and the value at the latest ``last_ts``."""

    service_id = models.BigIntegerField()
    parameter = models.CharField(max_length=64)
    day = models.DateField()
    total = value_field(_("sum"))
    count = models.BigIntegerField()
    maximum = value_field(_("maximum"))
    last_ts = models.DateTimeField()
    last_value = value_field(_("last value"))

    class Meta:
        verbose_name = _("parameter daily rollup")
        constraints = [
            models.UniqueConstraint(
                fields=["service_id", "parameter", "day"], name="usage_paramdaily_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_id} {self.parameter} {self.day}: {self.total}"


class UsageDaily(models.Model):
    """A meter's usage by one service over one UTC day: each parameter's records aggregated by
    the addon's aggregation, then the parameters combined by the meter's ``combine``."""

    service = models.ForeignKey("services.Service", on_delete=models.CASCADE, related_name="+")
    meter = models.ForeignKey(Meter, on_delete=models.CASCADE, related_name="daily")
    day = models.DateField()
    value = value_field(_("value"))
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["service_id", "meter_id", "day"]
        verbose_name = _("daily usage")
        verbose_name_plural = _("daily usage")
        constraints = [
            models.UniqueConstraint(fields=["service", "meter", "day"], name="usage_daily_unique"),
        ]
        indexes = [models.Index(fields=["meter", "day"], name="usage_daily_meter_day")]

    def __str__(self) -> str:
        return f"{self.service_id}/{self.meter_id} {self.day}: {self.value}"


class UsageMonthly(models.Model):
    """A meter's usage by one service over one calendar month (``month`` is its 1st): the
    month's daily values aggregated by the addon's aggregation (sum, max, average of the days
    with data, or the latest day's value)."""

    service = models.ForeignKey("services.Service", on_delete=models.CASCADE, related_name="+")
    meter = models.ForeignKey(Meter, on_delete=models.CASCADE, related_name="monthly")
    month = models.DateField()
    value = value_field(_("value"))
    days = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["service_id", "meter_id", "month"]
        verbose_name = _("monthly usage")
        verbose_name_plural = _("monthly usage")
        constraints = [
            models.UniqueConstraint(
                fields=["service", "meter", "month"], name="usage_monthly_unique"
            ),
            models.CheckConstraint(condition=Q(month__day=1), name="usage_monthly_first_day"),
        ]

    def __str__(self) -> str:
        return f"{self.service_id}/{self.meter_id} {self.month:%Y-%m}: {self.value}"


class RerateMark(models.Model):
    """A day whose usage changed after it closed (a late record): the rating (billing) re-rates
    the period containing ``day`` for this service and meter and charges only the difference,
    then clears the mark with ``usage.actions.clear_rerate_marks``."""

    service = models.ForeignKey("services.Service", on_delete=models.CASCADE, related_name="+")
    meter = models.ForeignKey(Meter, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    marked_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["service_id", "meter_id", "day"]
        verbose_name = _("re-rate mark")
        constraints = [
            models.UniqueConstraint(fields=["service", "meter", "day"], name="usage_rerate_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.service_id}/{self.meter_id} {self.day}"


class IngestToken(models.Model):
    """A token a processing module instance (or an agent on its hosts) uses to send usage
    records for the services of that instance only. Only a SHA-256 of the secret is stored;
    the token is ``bmi_<prefix>_<secret>`` and is shown once."""

    module_instance = models.ForeignKey(
        "services.ModuleInstance", on_delete=models.CASCADE, related_name="usage_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    token_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=clock.now, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("usage ingest token")

    def __str__(self) -> str:
        return f"{self.name} (bmi_{self.prefix}_…)"
