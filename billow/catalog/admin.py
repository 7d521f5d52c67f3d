"""Staff admin for the catalog (unfold). Model ``clean()`` runs the same validators as
``actions``, so bad admin input shows the same refusal as the API."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from unfold.admin import ModelAdmin, TabularInline

from . import validators as v
from .models import (
    Addon,
    AddonPrice,
    AddonPricePoint,
    Currency,
    Enumeration,
    EnumerationValue,
    EnumerationValuePrice,
    ExchangeRate,
    ParameterValue,
    ProductType,
    ProductTypeParameter,
    Tariff,
    TariffPrice,
)


@admin.register(Currency)
class CurrencyAdmin(ModelAdmin):
    list_display = ["code", "name", "symbol", "exponent", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["code"] if obj else []


@admin.register(ExchangeRate)
class ExchangeRateAdmin(ModelAdmin):
    list_display = ["base", "quote", "valid_from", "rate", "client_group"]
    list_filter = ["base", "quote", "client_group"]
    date_hierarchy = "valid_from"


class ProductTypeParameterInline(TabularInline):
    model = ProductTypeParameter
    extra = 0
    show_change_link = True


@admin.register(ProductType)
class ProductTypeAdmin(ModelAdmin):
    list_display = ["name", "intname", "deletion_policy", "auto_delete_days", "no_suspend_weekends"]
    search_fields = ["name", "intname"]
    inlines = [ProductTypeParameterInline]


class ParameterValueInline(TabularInline):
    model = ParameterValue
    extra = 0


@admin.register(ProductTypeParameter)
class ProductTypeParameterAdmin(ModelAdmin):
    list_display = ["name", "intname", "product_type", "required"]
    list_filter = ["product_type"]
    inlines = [ParameterValueInline]


class TariffForm(forms.ModelForm):
    class Meta:
        model = Tariff
        fields = [
            "provider",
            "product_type",
            "name",
            "status",
            "billing_mode",
            "prorata_day",
            "order_limit",
            "trial_days",
            "visible_to_groups",
            "hidden_from_groups",
            "sort",
            "description",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        visible = [g.pk for g in data.get("visible_to_groups") or []]
        hidden = [g.pk for g in data.get("hidden_from_groups") or []]
        with v.as_django_errors("hidden_from_groups"):
            v.validate_group_visibility(visible, hidden)
        return data


class TariffPriceInline(TabularInline):
    model = TariffPrice
    extra = 0


class AddonInline(TabularInline):
    model = Addon
    fk_name = "tariff"
    extra = 0
    show_change_link = True
    fields = [
        "name",
        "intname",
        "unit",
        "value_type",
        "billing_type",
        "included",
        "min_value",
        "max_value",
        "step",
        "currency",
        "unit_price_minor",
        "is_active",
    ]


@admin.register(Tariff)
class TariffAdmin(ModelAdmin):
    form = TariffForm
    list_display = ["name", "provider", "product_type", "status", "billing_mode", "sort"]
    list_filter = ["provider", "product_type", "status"]
    search_fields = ["name"]
    filter_horizontal = ["visible_to_groups", "hidden_from_groups"]
    inlines = [TariffPriceInline, AddonInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Provider and product type are fixed once the tariff exists (reference §1.8).
        return ["provider", "product_type"] if obj else []


class AddonPriceInline(TabularInline):
    model = AddonPrice
    extra = 0


class AddonPricePointInline(TabularInline):
    model = AddonPricePoint
    extra = 0


class EnumerationValuePriceInline(TabularInline):
    model = EnumerationValuePrice
    extra = 0


@admin.register(Addon)
class AddonAdmin(ModelAdmin):
    list_display = ["name", "intname", "tariff", "value_type", "billing_type", "is_active"]
    list_filter = ["value_type", "billing_type", "tariff"]
    search_fields = ["name", "intname"]
    inlines = [AddonPriceInline, AddonPricePointInline, EnumerationValuePriceInline]


class EnumerationValueInline(TabularInline):
    model = EnumerationValue
    extra = 0


@admin.register(Enumeration)
class EnumerationAdmin(ModelAdmin):
    list_display = ["name", "intname"]
    inlines = [EnumerationValueInline]
