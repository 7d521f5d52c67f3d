"""Staff screens of the inventory: parts, stock, ready servers, suppliers and deliveries."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action

from billow.core.actors import Actor
from billow.core.errors import BillowError
from billow.inventory.dedicated import complete_dedicated_task, tasks_page
from billow.inventory.models import (
    ComponentModel,
    DedicatedTask,
    Delivery,
    DeliveryLine,
    Location,
    ReadyServer,
    StockItem,
    Supplier,
)


@admin.register(ComponentModel)
class ComponentModelAdmin(ModelAdmin):
    list_display = ("name", "kind", "socket", "memory_type", "capacity_gb", "monthly_price_minor")
    list_filter = ("kind", "memory_type", "is_active")
    search_fields = ("name", "vendor")


@admin.register(Location)
class LocationAdmin(ModelAdmin):
    list_display = ("code", "name", "dci_location_id")


@admin.register(ReadyServer)
class ReadyServerAdmin(ModelAdmin):
    list_display = ("name", "configuration", "location", "status", "service_id", "dci_server_id")
    list_filter = ("status", "location")
    search_fields = ("name", "configuration", "barcode")


@admin.register(StockItem)
class StockItemAdmin(ModelAdmin):
    list_display = ("id", "model", "location", "status", "reserved_until", "server")
    list_filter = ("status", "location", "model__kind")
    search_fields = ("serial", "model__name")


class DeliveryLineInline(TabularInline):
    model = DeliveryLine
    extra = 1


@admin.register(Delivery)
class DeliveryAdmin(ModelAdmin):
    list_display = ("name", "supplier", "location", "status", "expected_on", "delivered_on")
    list_filter = ("status",)
    inlines = [DeliveryLineInline]


@admin.register(Supplier)
class SupplierAdmin(ModelAdmin):
    list_display = ("name",)


@admin.register(DedicatedTask)
class DedicatedTaskAdmin(ModelAdmin):
    """Open procurement / assembly Tasks of services waiting in "not available"."""

    list_display = ["id", "title", "department", "status", "service", "created_at"]
    readonly_fields = ["title", "instructions", "service", "status", "created_at"]
    fields = readonly_fields
    actions = ["complete"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[DedicatedTask]:
        return (
            super()
            .get_queryset(request)
            .filter(kind="other", link=tasks_page(), service__status="not_available")
            .select_related("service")
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @action(description=_("Done (the last one assembles and provisions the server)"))
    def complete(self, request: HttpRequest, queryset: QuerySet[DedicatedTask]) -> None:
        actor = Actor.staff(request.user)
        for task in queryset.order_by("id"):
            try:
                complete_dedicated_task(task=task, actor=actor)
            except BillowError as exc:
                messages.error(request, f"#{task.pk}: {exc.message} ({exc.code})")
