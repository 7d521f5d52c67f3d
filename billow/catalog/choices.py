"""Catalog choice sets: plain TextChoices, so pure code (pricing) can use them without models."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DeletionPolicy(models.TextChoices):
    """What happens when a client deletes a service of this product type (reference §1.10)."""

    IMMEDIATELY = "immediately", _("Delete immediately")
    PERIOD_END = "period_end", _("Delete at the end of the paid period")
    AFTER_AUTO_DELETE = "after_auto_delete", _("Suspend, delete after the auto-delete period")


class DowngradePolicy(models.TextChoices):
    """When a cheaper tariff or smaller addon value takes effect (used by billing)."""

    PERIOD_END = "period_end", _("At the end of the paid period")
    NOW_PRORATED = "now_prorated", _("Now, with a prorated credit")


class TariffStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    INACTIVE = "inactive", _("Inactive")
    ARCHIVED = "archived", _("Archived")


class ValueType(models.TextChoices):
    BOOL = "bool", _("Boolean")
    INT = "int", _("Integer")
    ENUM = "enum", _("Enumeration")


class BillingType(models.TextChoices):
    """Reference §1.9: how an addon is billed."""

    INCLUDED = "included", _("Included (not billed, not editable)")
    ON_ORDER = "on_order", _("Based on order")
    CLIENT_CHOICE = "client_choice", _("Client chooses one child")
    STATISTICS = "statistics", _("Based on statistics (usage)")


class EditPolicy(models.TextChoices):
    """Which changes a client may make to an ordered addon value."""

    ANY = "any", _("Can be edited")
    INCREASE_ONLY = "increase_only", _("Only increase")
    DECREASE_ONLY = "decrease_only", _("Only decrease")
    FIXED = "fixed", _("Cannot be edited")


class StatisticsRating(models.TextChoices):
    PER_MONTH = "per_month", _("Per month")
    PER_DAY = "per_day", _("Per day")


class Aggregation(models.TextChoices):
    SUM = "sum", _("Sum")
    MAX = "max", _("Maximum")
    LAST = "last", _("Last value")
    AVERAGE = "avg", _("Average")
