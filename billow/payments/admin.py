"""Staff admin for payments (unfold). Writes with rules go through the actions layer; payments,
refunds and webhook events are read-only here."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action

from billow.core.actors import Actor
from billow.core.errors import BillowError
from billow.payments import actions
from billow.payments.gateways import gateways
from billow.payments.models import (
    Payment,
    PaymentEvent,
    PaymentMethod,
    Refund,
    RefundDestination,
    SavedPaymentMethod,
    WebhookEvent,
)


class PaymentMethodForm(forms.ModelForm):
    gateway = forms.ChoiceField(choices=())
    secrets = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
        help_text=_(
            'Write-only JSON object, e.g. {"secret_key": "..."}. Blank keeps the stored '
            "secrets; they are encrypted and never shown."
        ),
    )

    class Meta:
        model = PaymentMethod
        fields = [
            "provider",
            "gateway",
            "name",
            "currency",
            "fee_fixed_minor",
            "fee_percent",
            "min_amount_minor",
            "max_amount_minor",
            "client_groups",
            "sort",
            "is_active",
            "supports_refunds",
            "supports_recurring",
            "config",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["gateway"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(k, gateways.get(k).title or k) for k in gateways]

    def clean_secrets(self) -> dict[str, str] | None:
        raw = self.cleaned_data.get("secrets") or ""
        if not raw.strip():
            return None
        try:
            value = json.loads(raw)
        except ValueError as exc:
            raise forms.ValidationError(_("Enter a JSON object.")) from exc
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise forms.ValidationError(_("Enter a JSON object of text values."))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        key = data.get("gateway")
        if not key:
            return data
        cls = gateways.get(key)
        try:
            data["config"] = cls.validate_config(data.get("config") or {})
        except BillowError as exc:
            self.add_error("config", exc.message)
        unknown = sorted(set(data.get("secrets") or {}) - set(cls.secret_fields))
        if unknown:
            self.add_error("secrets", _("Unknown secrets: %s") % ", ".join(unknown))
        for flag, supported in (
            ("supports_refunds", cls.supports_refunds),
            ("supports_recurring", cls.supports_recurring),
        ):
            if data.get(flag) and not supported:
                self.add_error(flag, _("This gateway does not support it."))
        return data


@admin.register(PaymentMethod)
class PaymentMethodAdmin(ModelAdmin):
    form = PaymentMethodForm
    list_display = ["name", "provider", "gateway", "currency", "sort", "is_active", "has_secrets"]
    list_filter = ["gateway", "is_active", "provider", "currency"]
    filter_horizontal = ["client_groups"]

    @admin.display(boolean=True, description=_("secrets set"))
    def has_secrets(self, obj: PaymentMethod) -> bool:
        return bool(obj.secrets_encrypted)

    def save_model(self, request: HttpRequest, obj: PaymentMethod, form: Any, change: bool) -> None:
        actions.configure_payment_method(
            method=obj,
            config=form.cleaned_data.get("config"),
            secrets=form.cleaned_data.get("secrets"),
            actor=Actor.staff(request.user),
        )


class PaymentEventInline(TabularInline):
    model = PaymentEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "type", "actor_kind", "actor_id", "data"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _each(
    admin_: ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet[Payment],
    do: Callable[[Payment], object],
) -> None:
    done = 0
    for payment in queryset:
        try:
            do(payment)
            done += 1
        except BillowError as exc:
            admin_.message_user(request, f"#{payment.pk}: {exc.code}", messages.ERROR)
    if done:
        admin_.message_user(request, _("%d payment(s) done.") % done, messages.SUCCESS)


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "client",
        "method",
        "amount_minor",
        "commission_minor",
        "currency",
        "status",
        "purpose",
        "reference",
        "refunded_minor",
        "created_at",
        "paid_at",
    ]
    list_filter = ["status", "purpose", "method__gateway", "currency"]
    search_fields = ["=id", "reference", "gateway_reference", "idempotency_key", "client__name"]
    list_select_related = ["client", "method"]
    inlines = [PaymentEventInline]
    actions = ["mark_paid", "refund_to_gateway", "refund_to_balance"]

    @action(description=_("Mark paid (bank transfer received)"))
    def mark_paid(self, request: HttpRequest, queryset: QuerySet[Payment]) -> None:
        actor = Actor.staff(request.user)

        def do(payment: Payment) -> object:
            return actions.confirm_manual_payment(payment=payment, actor=actor)

        _each(self, request, queryset, do)

    @action(description=_("Refund in full through the gateway"))
    def refund_to_gateway(self, request: HttpRequest, queryset: QuerySet[Payment]) -> None:
        self._refund(request, queryset, RefundDestination.GATEWAY)

    @action(description=_("Refund in full to the client balance"))
    def refund_to_balance(self, request: HttpRequest, queryset: QuerySet[Payment]) -> None:
        self._refund(request, queryset, RefundDestination.BALANCE)

    def _refund(self, request: HttpRequest, queryset: QuerySet[Payment], to: str) -> None:
        actor = Actor.staff(request.user)
        nonce = uuid.uuid4().hex
        _each(
            self,
            request,
            queryset,
            lambda p: actions.refund_payment(
                payment=p,
                destination=to,
                idempotency_key=f"admin:{nonce}:{p.pk}",
                reason="staff refund",
                actor=actor,
            ),
        )


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "payment",
        "amount_minor",
        "currency",
        "destination",
        "status",
        "gateway_reference",
        "created_at",
        "completed_at",
    ]
    list_filter = ["status", "destination"]
    search_fields = ["=id", "=payment__id", "gateway_reference"]


@admin.register(SavedPaymentMethod)
class SavedPaymentMethodAdmin(ModelAdmin):
    list_display = [
        "label",
        "client",
        "method",
        "is_default",
        "is_active",
        "auto_payment_max_minor",
    ]
    list_filter = ["is_active", "method__gateway"]
    search_fields = ["label", "client__name"]
    fields = ["client", "method", "label", "is_default", "is_active", "auto_payment_max_minor"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["client", "method"] if obj is not None else []

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # methods are saved by gateways, never typed in


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "gateway",
        "event_id",
        "event_type",
        "status",
        "result_code",
        "payment",
        "received_at",
    ]
    list_filter = ["gateway", "status"]
    search_fields = ["event_id", "=payment__id"]
