"""Staff admin for the bonus program (unfold): the program with its point values, rules,
tariff groups, and clients' bonus accounts with a manual accrual / deduction (reason and staff
user recorded on the movement, once per form nonce). Points change only through actions."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action
from unfold.widgets import (
    UnfoldAdminIntegerFieldWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminTextareaWidget,
)

from billow.core.actors import Actor
from billow.core.errors import BillowError
from billow.marketing.bonus.actions import (
    adjust_bonus_points,
    enable_bonus_program,
    set_bonus_account_status,
)
from billow.marketing.bonus.models import (
    BonusAccount,
    BonusConsent,
    BonusMovement,
    BonusPointValue,
    BonusProgram,
    BonusRule,
    BonusTariffGroup,
)


class PointValueInline(TabularInline):
    model = BonusPointValue
    extra = 0


class RuleInline(TabularInline):
    model = BonusRule
    extra = 0
    fields = ("name", "is_active", "trigger", "direction", "kind", "points", "percent", "priority")
    show_change_link = True


@admin.register(BonusProgram)
class BonusProgramAdmin(ModelAdmin):
    list_display = ("name", "provider", "enabled", "starts_on", "ends_on", "max_share_percent")
    list_filter = ("enabled",)
    inlines = (PointValueInline, RuleInline)
    actions = ["enable_action"]

    def save_model(self, request: HttpRequest, obj: BonusProgram, form: Any, change: bool) -> None:
        """Switching it on goes through ``enable_bonus_program`` (every client gets an account
        and, by the program's terms, the welcome bonus)."""
        turning_on = obj.enabled and not (
            change and BonusProgram.objects.filter(pk=obj.pk, enabled=True).exists()
        )
        if turning_on:
            obj.enabled = False
        super().save_model(request, obj, form, change)
        if turning_on:
            created = enable_bonus_program(program=obj, actor=Actor.staff(request.user))
            obj.refresh_from_db()
            self.message_user(
                request, _("Program on: %(n)d bonus accounts created.") % {"n": created}
            )

    @admin.action(description=_("Switch on (creates the clients' bonus accounts)"))
    def enable_action(self, request: HttpRequest, queryset: QuerySet[BonusProgram]) -> None:
        for program in queryset:
            enable_bonus_program(program=program, actor=Actor.staff(request.user))
        self.message_user(request, _("Switched on."), messages.SUCCESS)


@admin.register(BonusRule)
class BonusRuleAdmin(ModelAdmin):
    list_display = ("name", "program", "trigger", "direction", "kind", "priority", "stop_after")
    list_filter = ("program", "trigger", "direction", "is_active")
    filter_horizontal = ("product_types", "tariff_groups", "tariffs", "client_groups")


@admin.register(BonusTariffGroup)
class BonusTariffGroupAdmin(ModelAdmin):
    list_display = ("name", "provider")
    filter_horizontal = ("tariffs",)


class MovementInline(TabularInline):
    model = BonusMovement
    extra = 0
    fields = (
        "created_at",
        "kind",
        "points",
        "source",
        "description",
        "reason",
        "actor_kind",
        "actor_id",
    )
    readonly_fields = fields
    ordering = ("-created_at", "-id")
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ConsentInline(TabularInline):
    model = BonusConsent
    extra = 0
    fields = ("version", "given_at", "ip", "actor_kind", "actor_id")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PointsAdjustmentForm(forms.Form):
    """Points, direction and a mandatory reason; ``nonce`` makes the form post once."""

    direction = forms.ChoiceField(
        label=_("Direction"),
        choices=[("accrual", _("Accrue points")), ("deduction", _("Deduct points"))],
        widget=UnfoldAdminSelectWidget,
    )
    points = forms.IntegerField(
        label=_("Points"), min_value=1, max_value=10**12, widget=UnfoldAdminIntegerFieldWidget
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=1000, widget=UnfoldAdminTextareaWidget(attrs={"rows": 3})
    )
    nonce = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("nonce", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)


@admin.register(BonusAccount)
class BonusAccountAdmin(ModelAdmin):
    list_display = (
        "client",
        "provider",
        "status",
        "balance_points",
        "consent_version",
        "created_at",
    )
    list_filter = ("provider", "status")
    list_select_related = ("client", "provider")
    search_fields = ("client__name", "client__email")
    readonly_fields = (
        "client",
        "provider",
        "status",
        "balance_points",
        "consent_version",
        "consented_at",
        "consent_ip",
        "created_at",
    )
    inlines = (ConsentInline, MovementInline)
    actions = ["turn_off_action", "turn_on_action"]
    actions_detail = ["adjust_points_detail"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_adjust_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.has_perm("marketing.adjust_points"))

    @admin.action(description=_("Turn the bonus accounts off"))
    def turn_off_action(self, request: HttpRequest, queryset: QuerySet[BonusAccount]) -> None:
        for account in queryset:
            set_bonus_account_status(account=account, status="off", actor=Actor.staff(request.user))

    @admin.action(description=_("Turn the bonus accounts on"))
    def turn_on_action(self, request: HttpRequest, queryset: QuerySet[BonusAccount]) -> None:
        for account in queryset:
            set_bonus_account_status(
                account=account, status="active", actor=Actor.staff(request.user)
            )

    @action(
        description=_("Accrue or deduct points"), url_path="adjust-points", permissions=["adjust"]
    )
    def adjust_points_detail(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return HttpResponseRedirect(
            reverse(f"{self.admin_site.name}:marketing_bonusaccount_adjust", args=[object_id])
        )

    def get_urls(self) -> list[URLPattern]:
        adjust = path(
            "<path:object_id>/adjust/",
            self.admin_site.admin_view(self.adjust_view),
            name="marketing_bonusaccount_adjust",
        )
        return [adjust, *super().get_urls()]

    def adjust_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """GET shows the form; POST accrues or deducts once per form nonce."""
        if not self.has_adjust_permission(request):
            raise PermissionDenied
        account = get_object_or_404(BonusAccount, pk=object_id)
        form = PointsAdjustmentForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                adjust_bonus_points(
                    account=account,
                    direction=data["direction"],
                    points=data["points"],
                    reason=data["reason"],
                    nonce=data["nonce"],
                    actor=Actor.staff(request.user),
                )
            except BillowError as exc:
                form.add_error(None, f"{exc.message} ({exc.code})")
            else:
                self.message_user(request, _("Points changed."), messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse(
                        f"{self.admin_site.name}:marketing_bonusaccount_change", args=[account.pk]
                    )
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Accrue or deduct points"),
            "account": account,
            "form": form,
        }
        return TemplateResponse(request, "admin/marketing/adjust_points.html", context)


@admin.register(BonusMovement)
class BonusMovementAdmin(ModelAdmin):
    list_display = ("created_at", "account", "kind", "points", "source", "actor_kind", "actor_id")
    list_filter = ("kind",)
    search_fields = ("source", "key", "account__client__name")
    list_select_related = ("account__client",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
