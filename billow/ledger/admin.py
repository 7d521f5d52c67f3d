"""Staff admin for the ledger: everything read-only; balance adjustments post new transactions."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action

from billow.core.errors import BillowError
from billow.ledger.actions import adjust_client_balance
from billow.ledger.forms import BalanceAdjustmentForm
from billow.ledger.models import AccountKind, LedgerAccount, LedgerEntry, LedgerTransaction
from billow.ledger.selectors import get_balance


class ReadOnlyMixin:
    """No add, change or delete: the ledger is append-only and written by actions only."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class LedgerEntryInline(ReadOnlyMixin, TabularInline):
    model = LedgerEntry
    fields = ["account", "amount_minor", "currency"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = [
        "id",
        "kind",
        "idempotency_key",
        "reference_type",
        "reference_id",
        "actor_kind",
        "actor_id",
        "created_at",
    ]
    list_filter = ["kind", "actor_kind"]
    search_fields = ["idempotency_key", "reference_id", "memo"]
    readonly_fields = [f.name for f in LedgerTransaction._meta.fields]
    inlines = [LedgerEntryInline]
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = ["id", "transaction", "account", "amount_minor", "currency"]
    list_filter = ["currency"]
    list_select_related = ["transaction", "account"]
    search_fields = ["transaction__idempotency_key"]
    readonly_fields = ["transaction", "account", "amount_minor", "currency"]
    show_full_result_count = False


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = ["id", "kind", "client", "provider", "currency", "balance_minor", "name"]
    list_filter = ["kind", "currency", "provider"]
    list_select_related = ["client", "provider"]
    search_fields = ["name", "client__name", "client__email"]
    readonly_fields = [f.name for f in LedgerAccount._meta.fields]
    actions = ["adjust_balance_action"]
    actions_detail = ["adjust_balance_detail"]

    def has_adjust_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.has_perm("ledger.adjust_balance"))

    @admin.action(description=_("Adjust balance…"), permissions=["adjust"])
    def adjust_balance_action(
        self, request: HttpRequest, queryset: QuerySet[LedgerAccount]
    ) -> HttpResponse | None:
        accounts = list(queryset[:2])
        if len(accounts) != 1 or accounts[0].kind != AccountKind.CLIENT_BALANCE:
            self.message_user(
                request, _("Select exactly one client balance account."), messages.ERROR
            )
            return None
        return HttpResponseRedirect(self._adjust_url(accounts[0].pk))

    @action(description=_("Adjust balance"), url_path="adjust-balance", permissions=["adjust"])
    def adjust_balance_detail(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return HttpResponseRedirect(self._adjust_url(object_id))

    def _adjust_url(self, pk: object) -> str:
        return reverse(f"{self.admin_site.name}:ledger_ledgeraccount_adjust", args=[pk])

    def get_urls(self) -> list[URLPattern]:
        adjust = path(
            "<path:object_id>/adjust/",
            self.admin_site.admin_view(self.adjust_view),
            name="ledger_ledgeraccount_adjust",
        )
        return [adjust, *super().get_urls()]

    def adjust_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """GET shows the form; POST posts the adjustment once per form nonce."""
        if not self.has_adjust_permission(request):
            raise PermissionDenied
        account = get_object_or_404(LedgerAccount, pk=object_id, kind=AccountKind.CLIENT_BALANCE)
        form = BalanceAdjustmentForm(request.POST or None, currency=account.currency)
        if request.method == "POST" and form.is_valid():
            try:
                txn = adjust_client_balance(
                    account=account,
                    amount_minor=form.cleaned_data["amount"],
                    direction=form.cleaned_data["direction"],
                    reason=form.cleaned_data["reason"],
                    nonce=form.cleaned_data["nonce"],
                    actor=request.user,
                )
            except BillowError as exc:
                form.add_error(None, f"{exc.message} ({exc.code})")
            else:
                self.message_user(request, _("Posted transaction #%s.") % txn.pk, messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse(
                        f"{self.admin_site.name}:ledger_ledgeraccount_change", args=[account.pk]
                    )
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Adjust balance"),
            "account": account,
            "balance": get_balance(account),
            "form": form,
        }
        return TemplateResponse(request, "admin/ledger/adjust_balance.html", context)
