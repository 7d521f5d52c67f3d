"""Staff admin for services (unfold). Services, operations and events are read-mostly: every
change with rules goes through ``billow.services.actions`` (admin actions below)."""

from __future__ import annotations

import json
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
from billow.services import actions, vm_actions
from billow.services.admin_discovery import DiscoveryAdminMixin
from billow.services.models import (
    ModuleInstance,
    Service,
    ServiceEvent,
    ServiceOperation,
    SystemMark,
    Task,
)
from billow.services.modules.base import modules, validate_config
from billow.services.states import ServiceStatus


def each_row(
    admin_obj: ModelAdmin, request: HttpRequest, queryset: QuerySet[Any], fn: Callable[[Any], Any]
) -> None:
    """Run ``fn`` per row; refusals are reported per row, the rest still run."""
    done = 0
    for obj in queryset:
        try:
            fn(obj)
            done += 1
        except BillowError as exc:
            admin_obj.message_user(request, f"#{obj.pk}: {exc.code}: {exc.message}", messages.ERROR)
    if done:
        admin_obj.message_user(request, _("%d row(s) done.") % done, messages.SUCCESS)


class ServiceEventInline(TabularInline):
    model = ServiceEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "type", "from_status", "to_status", "actor_kind", "actor_id", "data"]
    readonly_fields = fields
    ordering = ["-id"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ServiceOperationInline(TabularInline):
    model = ServiceOperation
    extra = 0
    can_delete = False
    fields = ["operation", "status", "attempts", "next_attempt_at", "error_code", "created_at"]
    readonly_fields = fields
    show_change_link = True
    ordering = ["-id"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Service)
class ServiceAdmin(ModelAdmin):
    list_display = [
        "id",
        "name",
        "client",
        "tariff",
        "status",
        "sub_state",
        "paid_until",
        "auto_renew_period",
        "module_instance",
    ]
    list_filter = ["status", "provider", "tariff", "module_instance"]
    search_fields = ["=id", "name", "external_id", "client__name", "client__email"]
    list_select_related = ["client", "tariff", "module_instance"]
    inlines = [ServiceOperationInline, ServiceEventInline]
    actions = [
        "suspend_services",
        "resume_services",
        "vm_start",
        "vm_stop",
        "vm_force_stop",
        "vm_reboot",
        "vm_reset",
    ]
    # Status, dates and money-relevant fields change only through actions and billing.
    readonly_fields = [
        "client",
        "provider",
        "tariff",
        "period",
        "currency",
        "billing_mode",
        "prorata_day",
        "anchor_day",
        "status",
        "sub_state",
        "ordered_at",
        "opened_at",
        "paid_until",
        "suspended_at",
        "deleted_at",
        "addon_values",
        "parameters",
        "special_price_minor",
        "module_instance",
        "external_id",
        "created_at",
        "updated_at",
        "delete_at_period_end",
        "auto_renew_period",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # services are ordered (create_service), not typed in

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @action(description=_("Suspend (by administrator)"))
    def suspend_services(self, request: HttpRequest, queryset: QuerySet[Service]) -> None:
        actor = Actor.staff(request.user)
        payload = {"target_status": ServiceStatus.SUSPENDED_BY_STAFF}
        each_row(
            self,
            request,
            queryset,
            lambda s: actions.request_operation(
                service=s, operation="suspend", payload=payload, actor=actor
            ),
        )

    @action(description=_("Resume"))
    def resume_services(self, request: HttpRequest, queryset: QuerySet[Service]) -> None:
        actor = Actor.staff(request.user)
        each_row(
            self,
            request,
            queryset,
            lambda s: actions.request_operation(service=s, operation="resume", actor=actor),
        )

    def save_model(self, request: HttpRequest, obj: Service, form: Any, change: bool) -> None:
        """The note goes through ``vm_actions.set_service_note`` (event + push to the VM)."""
        note = obj.note
        if change and "note" in form.changed_data:
            obj.note = Service.objects.values_list("note", flat=True).get(pk=obj.pk)
        super().save_model(request, obj, form, change)
        if change and "note" in form.changed_data:
            try:
                vm_actions.set_service_note(service=obj, note=note, actor=Actor.staff(request.user))
            except BillowError as exc:
                self.message_user(request, f"{exc.code}: {exc.message}", messages.ERROR)

    def _vm(self, request: HttpRequest, queryset: QuerySet[Service], name: str) -> None:
        actor = Actor.staff(request.user)
        each_row(
            self,
            request,
            queryset,
            lambda s: vm_actions.request_vm_action(service=s, action=name, actor=actor),
        )

    @action(description=_("VM: start"))
    def vm_start(self, request: HttpRequest, queryset: QuerySet[Service]) -> None:
        self._vm(request, queryset, "start")

    @action(description=_("VM: graceful stop"))
    def vm_stop(self, request: HttpRequest, queryset: QuerySet[Service]) -> None:
        self._vm(request, queryset, "stop")

    @action(description=_("VM: force stop"))
    def vm_force_stop(self, request: HttpRequest, queryset: QuerySet[Service]) -> None:
        self._vm(request, queryset, "force_stop")

    @action(description=_("VM: graceful reboot"))
    def vm_reboot(self, request: HttpRequest, queryset: QuerySet[Service]) -> None:
        self._vm(request, queryset, "reboot")

    @action(description=_("VM: hard reset"))
    def vm_reset(self, request: HttpRequest, queryset: QuerySet[Service]) -> None:
        self._vm(request, queryset, "reset")


class ModuleInstanceForm(forms.ModelForm):
    module = forms.ChoiceField(choices=())
    secrets = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
        help_text=_(
            'Write-only JSON object, e.g. {"password": "..."}. Blank keeps the stored '
            "secrets; they are encrypted and never shown."
        ),
    )

    class Meta:
        model = ModuleInstance
        fields = [
            "module",
            "name",
            "priority",
            "is_active",
            "department",
            "config",
            "product_types",
            "tariffs",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["module"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(k, modules.get(k).title or k) for k in modules]

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
        allowed = set(modules.get(self.cleaned_data.get("module", "")).secret_fields)
        unknown = sorted(set(value) - allowed)
        if unknown:
            raise forms.ValidationError(_("Unknown secrets: %s") % ", ".join(unknown))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        module = data.get("module")
        if module:
            try:
                data["config"] = validate_config(module, data.get("config"))
            except BillowError as exc:
                self.add_error("config", exc.message)
        return data


@admin.register(ModuleInstance)
class ModuleInstanceAdmin(DiscoveryAdminMixin, ModelAdmin):
    form = ModuleInstanceForm
    list_display = ["name", "module", "priority", "is_active", "department", "has_secrets"]
    list_filter = ["module", "is_active"]
    filter_horizontal = ["product_types", "tariffs"]
    actions = ["check_connection"]

    @admin.display(boolean=True, description=_("secrets set"))
    def has_secrets(self, obj: ModuleInstance) -> bool:
        return bool(obj.secrets_encrypted)

    def save_model(
        self, request: HttpRequest, obj: ModuleInstance, form: Any, change: bool
    ) -> None:
        actions.configure_module_instance(
            instance=obj,
            config=form.cleaned_data.get("config"),
            secrets=form.cleaned_data.get("secrets"),
            actor=Actor.staff(request.user),
        )

    @action(description=_("Check connection"))
    def check_connection(self, request: HttpRequest, queryset: QuerySet[ModuleInstance]) -> None:
        from billow.services.runner import build_module

        for instance in queryset:
            try:
                outcome = build_module(instance).check_connection()
            except BillowError as exc:
                self.message_user(request, f"{instance}: {exc.code}", messages.ERROR)
                continue
            level = messages.SUCCESS if outcome.status == "succeeded" else messages.ERROR
            text = f"{instance}: {outcome.status} {outcome.message}"
            self.message_user(request, text, level)


@admin.register(ServiceOperation)
class ServiceOperationAdmin(ModelAdmin):
    list_display = [
        "id",
        "service",
        "operation",
        "status",
        "attempts",
        "max_attempts",
        "next_attempt_at",
        "error_code",
        "created_at",
    ]
    list_filter = ["status", "operation", "module_instance"]
    search_fields = ["=id", "=service__id", "idempotency_key"]
    actions = ["retry_now", "cancel_operations"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in ServiceOperation._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @action(description=_("Retry now"))
    def retry_now(self, request: HttpRequest, queryset: QuerySet[ServiceOperation]) -> None:
        actor = Actor.staff(request.user)
        each_row(
            self, request, queryset, lambda op: actions.retry_operation(operation=op, actor=actor)
        )

    @action(description=_("Cancel"))
    def cancel_operations(self, request: HttpRequest, queryset: QuerySet[ServiceOperation]) -> None:
        actor = Actor.staff(request.user)
        each_row(
            self,
            request,
            queryset,
            lambda op: actions.cancel_operation(
                operation=op, actor=actor, reason="cancelled by staff"
            ),
        )


@admin.register(Task)
class TaskAdmin(ModelAdmin):
    list_display = ["id", "title", "kind", "department", "status", "service", "created_at"]
    list_filter = ["status", "kind", "department"]
    search_fields = ["=id", "title", "=service__id"]
    readonly_fields = [
        "kind",
        "title",
        "instructions",
        "service",
        "operation",
        "link",
        "status",
        "created_at",
        "completed_at",
    ]
    fields = [*readonly_fields, "department", "assignee", "resolution"]
    actions = ["complete_tasks", "fail_tasks", "cancel_tasks"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @action(description=_("Complete (done)"))
    def complete_tasks(self, request: HttpRequest, queryset: QuerySet[Task]) -> None:
        actor = Actor.staff(request.user)
        each_row(
            self,
            request,
            queryset,
            lambda t: actions.complete_task(
                task=t, actor=actor, success=True, resolution=t.resolution
            ),
        )

    @action(description=_("Complete as failed"))
    def fail_tasks(self, request: HttpRequest, queryset: QuerySet[Task]) -> None:
        actor = Actor.staff(request.user)
        each_row(
            self,
            request,
            queryset,
            lambda t: actions.complete_task(
                task=t, actor=actor, success=False, resolution=t.resolution
            ),
        )

    @action(description=_("Cancel"))
    def cancel_tasks(self, request: HttpRequest, queryset: QuerySet[Task]) -> None:
        actor = Actor.staff(request.user)
        each_row(
            self,
            request,
            queryset,
            lambda t: actions.cancel_task(task=t, actor=actor, reason="cancelled by staff"),
        )


@admin.register(SystemMark)
class SystemMarkAdmin(ModelAdmin):
    """VMs marked system by discovery; deleting a mark makes the VM drift again."""

    list_display = [
        "external_id",
        "name",
        "module_instance",
        "actor_kind",
        "actor_id",
        "created_at",
    ]
    list_filter = ["module_instance"]
    search_fields = ["external_id", "name"]
    readonly_fields = [
        "module_instance",
        "external_id",
        "name",
        "actor_kind",
        "actor_id",
        "created_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # marks come from the Discovery page


# IP pools and allocations register their own admin pages.
from billow.services import admin_net  # noqa: E402, F401
