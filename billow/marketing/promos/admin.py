"""Staff admin for promotions and promo codes (unfold)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from unfold.admin import ModelAdmin, TabularInline

from billow.marketing.promos.models import (
    PromoCode,
    PromoCodeUse,
    Promotion,
    PromotionCondition,
    PromotionDiscount,
)


class ConditionInline(TabularInline):
    model = PromotionCondition
    extra = 0


class DiscountInline(TabularInline):
    model = PromotionDiscount
    extra = 0


class CodeInline(TabularInline):
    model = PromoCode
    extra = 0
    fields = ("code", "is_active", "max_uses", "max_uses_per_client", "uses")
    readonly_fields = ("uses",)


@admin.register(Promotion)
class PromotionAdmin(ModelAdmin):
    list_display = (
        "name",
        "provider",
        "starts_at",
        "ends_at",
        "is_active",
        "requires_code",
        "stackable",
        "uses",
        "max_uses",
    )
    list_filter = ("provider", "is_active", "requires_code")
    search_fields = ("name", "title")
    readonly_fields = ("uses",)
    inlines = (ConditionInline, DiscountInline, CodeInline)

    def save_formset(self, request: Any, form: Any, formset: Any, change: bool) -> None:
        for obj in formset.save(commit=False):
            if isinstance(obj, PromoCode):
                obj.code = obj.code.strip().upper()
                obj.provider_id = form.instance.provider_id
            obj.save()
        for obj in formset.deleted_objects:
            obj.delete()


@admin.register(PromoCodeUse)
class PromoCodeUseAdmin(ModelAdmin):
    list_display = (
        "promotion",
        "code",
        "client",
        "reference",
        "status",
        "discount_minor",
        "currency",
        "created_at",
    )
    list_filter = ("status",)
    search_fields = ("reference", "code__code")

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False
