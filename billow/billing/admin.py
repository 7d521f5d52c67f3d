"""Staff admin for billing: expenses, runs and chunks are read-only; billing settings are
edited through ``actions.set_client_billing_settings`` (so the post-paid/limit rule holds)."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action

from billow.billing import credit_admin  # noqa: F401  (registers policies, promised payments)
from billow.billing.actions import delete_service, set_client_billing_settings
from billow.billing.models import (
    BillingRun,
    BillingRunChunk,
    ClientBillingSettings,
    Expense,
    PendingChange,
)
from billow.core.actors import Actor
from billow.core.errors import BillowError
from billow.services import admin as services_admin
from billow.services.models import Service


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Expense)
class ExpenseAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = [
        "id",
        "service",
        "client",
        "kind",
        "reason",
        "period_from",
        "period_to",
        "amount_minor",
        "currency",
        "created_at",
    ]
    list_filter = ["kind", "reason", "currency"]
    search_fields = ["key", "service__id", "client__name"]
    raw_id_fields = ["service", "client", "provider", "transaction"]
    readonly_fields = [f.name for f in Expense._meta.fields]
    date_hierarchy = "period_from"
    show_full_result_count = False


@admin.register(PendingChange)
class PendingChangeAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = ["service", "tariff", "effective_on", "created_at"]
    readonly_fields = ["service", "tariff", "addon_values", "effective_on", "created_at"]


@admin.register(ClientBillingSettings)
class ClientBillingSettingsAdmin(ModelAdmin):
    list_display = [
        "client",
        "currency",
        "credit_limit_minor",
        "postpaid",
        "respite_days",
        "block_days",
        "promised_minor",
        "promised_until",
        "updated_at",
    ]
    list_filter = ["postpaid", "currency"]
    raw_id_fields = ["client"]
    fields = [
        "client",
        "currency",
        "credit_limit_minor",
        "postpaid",
        "respite_unlimited",
        "respite_days",
        "block_days",
        "promised_minor",
        "promised_until",
    ]
    readonly_fields = ["promised_minor", "promised_until"]  # billing.actions.promised

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        try:
            saved = set_client_billing_settings(
                client=obj.client,
                currency=obj.currency,
                credit_limit_minor=obj.credit_limit_minor,
                postpaid=obj.postpaid,
                respite_unlimited=obj.respite_unlimited,
                respite_days=obj.respite_days,
                block_days=obj.block_days,
                actor=Actor.staff(request.user),
            )
            obj.pk = saved.pk
        except BillowError as exc:
            messages.error(request, f"{exc.code}: {exc.message}")


class ChunkInline(ReadOnlyMixin, TabularInline):
    model = BillingRunChunk
    fields = ["client_from", "client_to", "status", "finished_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(BillingRun)
class BillingRunAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = [
        "id",
        "date",
        "status",
        "chunks_done",
        "chunks_total",
        "renewed",
        "suspended",
        "deleted",
        "failed",
        "started_at",
        "finished_at",
    ]
    list_filter = ["status"]
    date_hierarchy = "date"
    readonly_fields = [
        "date",
        "status",
        "started_at",
        "finished_at",
        "chunks_total",
        "chunks_done",
        "report_table",
    ]
    fields = readonly_fields
    inlines = [ChunkInline]

    def _count(self, obj: BillingRun, key: str) -> int:
        return int(obj.report.get(key, 0)) if obj.report else 0

    @admin.display(description=_("renewed"))
    def renewed(self, obj: BillingRun) -> int:
        return self._count(obj, "renewed")

    @admin.display(description=_("suspended"))
    def suspended(self, obj: BillingRun) -> int:
        return self._count(obj, "suspended")

    @admin.display(description=_("deleted"))
    def deleted(self, obj: BillingRun) -> int:
        return self._count(obj, "deleted")

    @admin.display(description=_("failed"))
    def failed(self, obj: BillingRun) -> int:
        return self._count(obj, "failed")

    @admin.display(description=_("report"))
    def report_table(self, obj: BillingRun) -> SafeString:
        rows = [
            (k, json.dumps(v)) for k, v in sorted((obj.report or {}).items()) if k != "failures"
        ]
        body = format_html(
            "<table>{}</table>", format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows)
        )
        failures = (obj.report or {}).get("failures") or []
        if failures:
            body = format_html("{}<p>failures: {}</p>", body, json.dumps(failures))
        return body


# The staff Service admin, with the one delete (billing's: the product type's deletion policy and
# the refund, exactly as the client's delete); the services app may not import billing, so the
# action is added here, above it, and the services admin is registered again with it.
class ServiceAdmin(services_admin.ServiceAdmin):
    actions = [
        *services_admin.ServiceAdmin.actions[:2],
        "delete_services",
        *services_admin.ServiceAdmin.actions[2:],
    ]

    @action(description=_("Delete"))
    def delete_services(self, request: HttpRequest, queryset: QuerySet[Service]) -> None:
        """Deleted now with a refund of the unused part, or at the end of the paid period, per
        the product type's deletion policy."""
        actor = Actor.staff(request.user)
        services_admin.each_row(
            self,
            request,
            queryset,
            lambda s: delete_service(service=s, refund=True, actor=actor),
        )


admin.site.unregister(Service)
admin.site.register(Service, ServiceAdmin)
