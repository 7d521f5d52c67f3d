"""Staff admin for orders (read-mostly: cancel and settle are admin actions)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from unfold.admin import ModelAdmin, TabularInline

from billow.core.actors import Actor
from billow.core.errors import BillowError
from billow.orders import actions
from billow.orders.models import Order, OrderItem


class ItemInline(TabularInline):
    model = OrderItem
    extra = 0
    can_delete = False
    fields = (
        "tariff",
        "period",
        "addon_values",
        "parameters",
        "quick",
        "net_minor",
        "tax_added_minor",
        "total_minor",
        "service",
    )
    readonly_fields = fields

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(ModelAdmin):
    list_display = (
        "id",
        "client",
        "provider",
        "status",
        "total_minor",
        "discount_minor",
        "tax_minor",
        "currency",
        "created_at",
        "paid_at",
    )
    list_filter = ("status", "provider", "currency")
    search_fields = ("client__name", "client__email")
    inlines = (ItemInline,)
    actions = ("settle_from_balance", "cancel")

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    @admin.action(description="Settle from the client balance")
    def settle_from_balance(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        actor = Actor.staff(request.user)
        for order in queryset:
            try:
                paid = actions.settle_order(order=order, actor=actor)
            except BillowError as exc:
                self.message_user(request, f"{order}: {exc.message}", messages.ERROR)
                continue
            self.message_user(request, f"{order}: {'paid' if paid else 'balance too low'}")

    @admin.action(description="Cancel (unpaid orders)")
    def cancel(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        actor = Actor.staff(request.user)
        for order in queryset:
            try:
                actions.cancel_order(order=order, actor=actor)
            except BillowError as exc:
                self.message_user(request, f"{order}: {exc.message}", messages.ERROR)
