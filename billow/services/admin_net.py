"""Staff admin for IP pools: pools are edited here (checked by ``ip_pools.check_pool``);
allocations are read-only history (they change only through ordering and deletion)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline

from billow.core.errors import BillowError
from billow.services import ip_pools
from billow.services.models import IpAllocation, IpPool


class IpPoolForm(forms.ModelForm):
    class Meta:
        model = IpPool
        fields = [
            "module_instance",
            "name",
            "version",
            "network",
            "first_address",
            "last_address",
            "gateway",
            "dns",
            "priority",
            "is_active",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        candidate = IpPool(**{k: v for k, v in data.items() if k != "module_instance"})
        try:
            ip_pools.check_pool(candidate)
        except BillowError as exc:
            raise forms.ValidationError(exc.message) from None
        return data


class IpAllocationInline(TabularInline):
    model = IpAllocation
    extra = 0
    can_delete = False
    fields = ("address", "service", "allocated_at", "released_at")
    readonly_fields = fields
    ordering = ("-id",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(IpPool)
class IpPoolAdmin(ModelAdmin):
    form = IpPoolForm
    list_display = ("name", "module_instance", "version", "network", "used", "is_active")
    list_filter = ("version", "is_active", "module_instance")
    inlines = [IpAllocationInline]

    @admin.display(description=_("addresses in use"))
    def used(self, obj: IpPool) -> int:
        return obj.allocations.filter(released_at__isnull=True).count()


@admin.register(IpAllocation)
class IpAllocationAdmin(ModelAdmin):
    list_display = ("address", "pool", "service", "allocated_at", "released_at")
    list_filter = ("pool",)
    search_fields = ("address", "service__id")
    readonly_fields = ("pool", "address", "service", "allocated_at", "released_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
