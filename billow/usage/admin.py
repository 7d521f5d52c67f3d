"""Staff UI for meters (the addon's statistics terms are edited on the addon)."""

from __future__ import annotations

from django.contrib import admin
from unfold.admin import ModelAdmin

from billow.usage.models import Meter


@admin.register(Meter)
class MeterAdmin(ModelAdmin):
    list_display = ("addon", "parameters", "combine", "unit", "limit")
    list_select_related = ("addon",)
    raw_id_fields = ("addon",)
