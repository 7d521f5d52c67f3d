"""Staff UI for meters (the addon's statistics terms are edited on the addon)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from unfold.admin import ModelAdmin

from billow.usage.limits import apply_meter_limit
from billow.usage.models import Meter


@admin.register(Meter)
class MeterAdmin(ModelAdmin):
    list_display = ("addon", "parameters", "combine", "unit", "limit")
    list_select_related = ("addon",)
    raw_id_fields = ("addon",)

    def save_model(self, request: Any, obj: Meter, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "limit" in form.changed_data:
            # a raised limit resumes the services it held, a lowered one suspends (h4)
            apply_meter_limit(meter_id=obj.pk)
