"""Staff screens of the inventory: parts, stock, ready servers, suppliers and deliveries."""

from __future__ import annotations

from django.contrib import admin
from unfold.admin import ModelAdmin, TabularInline

from billow.inventory.models import (
    ComponentModel,
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
