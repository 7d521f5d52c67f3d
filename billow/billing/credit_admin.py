"""Staff admin for credit: billing policies, and promised payments (granted through the add
form with an amount and days, revoked with an admin action; both through the billing actions,
so the rules and the resumption are the client's)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.decorators import action

from billow.accounts.models import Client, Provider
from billow.billing.actions import grant_promised_payment, revoke_promised_payment
from billow.billing.models import BillingPolicy, PromisedPayment, PromiseStatus
from billow.core.actors import Actor
from billow.core.errors import BillowError


@admin.register(BillingPolicy)
class BillingPolicyAdmin(ModelAdmin):
    list_display = [
        "provider",
        "client_group",
        "currency",
        "invoice_due_days",
        "promised_amount_minor",
        "promised_days",
        "promised_interval_days",
        "auto_invoice",
    ]
    list_filter = ["provider", "currency", "auto_invoice"]


class GrantForm(forms.ModelForm):
    """Staff grant: the client, the provider whose wallet resumes, amount and days."""

    provider = forms.ModelChoiceField(queryset=Provider.objects.all(), label=_("provider"))
    days = forms.IntegerField(min_value=1, label=_("days"))

    class Meta:
        model = PromisedPayment
        fields = ["client", "currency", "amount_minor"]


@admin.register(PromisedPayment)
class PromisedPaymentAdmin(ModelAdmin):
    list_display = [
        "id",
        "client",
        "currency",
        "amount_minor",
        "taken_on",
        "expires_on",
        "status",
        "granted_by_staff",
        "actor",
        "closed_by",
    ]
    list_filter = ["status", "currency", "granted_by_staff"]
    raw_id_fields = ["client"]
    actions = ["revoke"]

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = GrantForm
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        try:
            granted = grant_promised_payment(
                client=Client.objects.get(pk=obj.client_id),
                provider=form.cleaned_data["provider"],
                currency=obj.currency,
                amount_minor=obj.amount_minor,
                days=form.cleaned_data["days"],
                actor=Actor.staff(request.user),
            )
            obj.pk = granted.pk
        except BillowError as exc:
            messages.error(request, f"{exc.code}: {exc.message}")

    @action(description=_("Revoke the promised payment"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[PromisedPayment]) -> None:
        actor = Actor.staff(request.user)
        for promise in queryset.filter(status=PromiseStatus.ACTIVE).select_related("client"):
            try:
                revoke_promised_payment(
                    client=promise.client, currency=promise.currency, actor=actor
                )
            except BillowError as exc:
                messages.error(request, f"#{promise.pk} {exc.code}: {exc.message}")
