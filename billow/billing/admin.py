"""Staff admin for billing: expenses, runs and chunks are read-only; billing settings are
edited through ``actions.set_client_billing_settings`` (so the post-paid/limit rule holds)."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action

from billow.billing import credit_admin  # noqa: F401  (registers policies, promised payments)
from billow.billing.actions import credit_charge, delete_service, set_client_billing_settings
from billow.billing.admin_staff_ops import StaffOperationsAdminMixin
from billow.billing.forms import ChargeCreditForm
from billow.billing.models import (
    BillingRun,
    BillingRunChunk,
    ClientBillingSettings,
    Expense,
    ExpenseKind,
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
        "tax_minor",
        "currency",
        "invoice",
        "created_at",
    ]
    list_filter = ["kind", "reason", "currency"]
    search_fields = ["key", "service__id", "client__name"]
    raw_id_fields = ["service", "client", "provider", "transaction", "invoice", "credit_note"]
    readonly_fields = [f.name for f in Expense._meta.fields]
    date_hierarchy = "period_from"
    show_full_result_count = False
    actions_detail = ["credit_charge_detail"]

    def has_credit_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.has_perm("invoicing.add_creditnote"))

    @action(description=_("Issue credit note"), url_path="credit", permissions=["credit"])
    def credit_charge_detail(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return HttpResponseRedirect(
            reverse(f"{self.admin_site.name}:billing_expense_credit", args=[object_id])
        )

    def get_urls(self) -> list[URLPattern]:
        credit = path(
            "<path:object_id>/credit-note/",
            self.admin_site.admin_view(self.credit_view),
            name="billing_expense_credit",
        )
        return [credit, *super().get_urls()]

    def credit_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """GET shows the form; POST credits the charge once per form nonce (``credit_charge``:
        the balance gets the amount and its tax back, a credit note carries the reason)."""
        if not self.has_credit_permission(request):
            raise PermissionDenied
        charge = get_object_or_404(Expense, pk=object_id, kind=ExpenseKind.CHARGE)
        form = ChargeCreditForm(request.POST or None, currency=charge.currency)
        if request.method == "POST" and form.is_valid():
            try:
                credit = credit_charge(
                    charge=charge,
                    amount_minor=form.cleaned_data["amount"],
                    reason=form.cleaned_data["reason"],
                    nonce=form.cleaned_data["nonce"],
                    actor=Actor.staff(request.user),
                )
            except BillowError as exc:
                form.add_error(None, f"{exc.message} ({exc.code})")
            else:
                self.message_user(
                    request, _("Credited: expense #%s.") % credit.pk, messages.SUCCESS
                )
                return HttpResponseRedirect(
                    reverse(f"{self.admin_site.name}:billing_expense_change", args=[charge.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Issue credit note"),
            "charge": charge,
            "invoice": charge.invoice or _("no invoice yet"),
            "form": form,
        }
        return TemplateResponse(request, "admin/billing/credit_charge.html", context)


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
# The staff operations (issue 13.1: forms, bulk with a confirmation page) come from
# ``admin_staff_ops`` for the same reason.
class ServiceAdmin(StaffOperationsAdminMixin, services_admin.ServiceAdmin):
    actions = [
        *services_admin.ServiceAdmin.actions[:2],
        "delete_services",
        *StaffOperationsAdminMixin.staff_bulk_actions,
        *services_admin.ServiceAdmin.actions[2:],
    ]
    actions_detail = StaffOperationsAdminMixin.staff_detail_actions
    actions_list = StaffOperationsAdminMixin.staff_list_actions

    def get_urls(self) -> list[URLPattern]:
        return [*self.staff_urls(), *super().get_urls()]

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
