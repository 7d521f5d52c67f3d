"""Staff pages of the referral program: programs (rules, change history), referrers, referrals
(manual link and unlink, with a reason), rewards, payouts (confirm or reject bank payouts), the
change history, and a CSV export of each list. Writes go through the referral actions."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action

from billow.accounts.models import Client
from billow.core.actors import Actor, ActorKind
from billow.core.errors import BillowError
from billow.marketing.referrals.attribution import link_referral, partner_link, unlink_referral
from billow.marketing.referrals.models import (
    PayoutStatus,
    Referral,
    ReferralEvent,
    ReferralPartner,
    ReferralPayout,
    ReferralProgram,
    ReferralReward,
    ReferralRule,
)
from billow.marketing.referrals.payout import confirm_bank_payout, reject_bank_payout
from billow.marketing.referrals.programs import (
    PROGRAM_FIELDS,
    check_program,
    check_rule,
    check_template,
    create_referral_program,
    record_event,
    rule_info,
    update_referral_program,
)
from billow.marketing.referrals.selectors import list_referral_rows


def staff_actor(request: HttpRequest) -> Actor:
    user: Any = request.user
    return Actor(ActorKind.STAFF, str(user.pk), user.get_username())


def csv_response(name: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows(rows)
    return response


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ProgramForm(forms.ModelForm):
    website_url = forms.URLField(
        label=_("website URL"), required=False, assume_scheme="https", max_length=200
    )

    class Meta:
        model = ReferralProgram
        fields = [*PROGRAM_FIELDS, "provider", "allowed_groups", "forbidden_groups"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            data["promo_code_template"] = check_template(data.get("promo_code_template") or "")
            if data.get("currency") and data.get("starts_on"):
                data["currency"] = data["currency"].upper()
                check_program(data)
        except BillowError as exc:
            raise forms.ValidationError(f"{exc.message} ({exc.code})") from exc
        return data


class RuleForm(forms.ModelForm):
    class Meta:
        model = ReferralRule
        fields = [
            "position",
            "accrual_type",
            "percent",
            "amount_minor",
            "moment",
            "moment_days",
            "frequency",
            "frequency_count",
            "condition",
            "turnover_minor",
            "turnover_days",
            "is_active",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            check_rule(
                rule_info(ReferralRule(**{k: v for k, v in data.items() if k in self.Meta.fields}))
            )
        except BillowError as exc:
            raise forms.ValidationError(f"{exc.message} ({exc.code})") from exc
        return data


class RuleInline(TabularInline):
    model = ReferralRule
    form = RuleForm
    extra = 0


class EventInline(TabularInline):
    model = ReferralEvent
    extra = 0
    fields = ("created_at", "actor_kind", "actor_id", "type", "data")
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = _("change history")

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(ReferralProgram)
class ReferralProgramAdmin(ModelAdmin):
    form = ProgramForm
    list_display = (
        "name",
        "provider",
        "currency",
        "starts_on",
        "ends_on",
        "assign_automatically",
        "is_active",
    )
    list_filter = ("provider", "is_active")
    search_fields = ("name",)
    filter_horizontal = ("allowed_groups", "forbidden_groups")
    inlines = (RuleInline, EventInline)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        actor = staff_actor(request)
        data = form.cleaned_data
        if not change:
            created = create_referral_program(
                provider=data["provider"],
                actor=actor,
                **{f: data[f] for f in PROGRAM_FIELDS if f != "is_active"},
            )
            obj.pk, obj.promotion_id, obj.created_at = (
                created.pk,
                created.promotion_id,
                created.created_at,
            )
            obj._state.adding = False
            return
        changes = {f: data[f] for f in form.changed_data if f in PROGRAM_FIELDS}
        if changes:
            program = ReferralProgram.objects.get(pk=obj.pk)
            update_referral_program(program=program, actor=actor, **changes)
            obj.promotion_id = program.promotion_id

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not ReferralRule:
            return super().save_formset(request, form, formset, change)
        instances = formset.save()
        for rule in instances:
            data = {k: str(v) for k, v in asdict(rule_info(rule)).items()}
            record_event(
                staff_actor(request), "referral.rule_saved", data, program_id=form.instance.pk
            )
        return None


@admin.register(ReferralPartner)
class ReferralPartnerAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = ("id", "client", "program", "promo_code", "joined_at", "link")
    list_select_related = ("client", "program", "promo_code")
    list_filter = ("program",)
    search_fields = ("client__name", "client__email", "promo_code__code")
    actions = ["export_csv"]

    @admin.display(description=_("referral link"))
    def link(self, obj: ReferralPartner) -> str:
        return partner_link(obj)

    @admin.action(description=_("Export CSV"))
    def export_csv(self, request: HttpRequest, queryset: QuerySet[ReferralPartner]) -> HttpResponse:
        rows = (
            (
                p.pk,
                p.client_id,
                p.client.name,
                p.program.name,
                p.promo_code.code if p.promo_code else "",
                partner_link(p),
                p.joined_at.isoformat(),
            )
            for p in queryset.select_related("client", "program", "promo_code")
        )
        return csv_response(
            "referrers",
            ["id", "client_id", "client", "program", "promo_code", "link", "joined_at"],
            rows,
        )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))


class LinkForm(ReasonForm):
    client = forms.ModelChoiceField(label=_("Client"), queryset=Client.objects.all())
    partner = forms.ModelChoiceField(label=_("Referrer"), queryset=ReferralPartner.objects.all())

    field_order = ["client", "partner", "reason"]


def _form_page(
    request: HttpRequest, admin_obj: Any, title: str, form: forms.Form, intro: str
) -> TemplateResponse:
    context = {
        **admin_obj.admin_site.each_context(request),
        "opts": admin_obj.model._meta,
        "title": title,
        "form": form,
        "intro": intro,
    }
    return TemplateResponse(request, "admin/marketing/referral_form.html", context)


REFERRAL_CSV = [
    "id",
    "client_id",
    "name",
    "email",
    "joined_at",
    "source",
    "from",
    "first_purchase",
    "last_purchase",
    "total_charges_minor",
    "paid_minor",
    "rules",
    "unlinked_at",
]


@admin.register(Referral)
class ReferralAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = (
        "id",
        "client",
        "partner",
        "source",
        "source_detail",
        "joined_at",
        "reward_until",
        "unlinked_at",
    )
    list_select_related = ("client", "partner")
    list_filter = ("source", "partner__program")
    search_fields = ("client__name", "client__email")
    actions = ["export_csv"]
    actions_detail = ["unlink_detail"]
    actions_list = ["link_list"]

    def get_urls(self) -> list[URLPattern]:
        site = self.admin_site
        return [
            path("link/", site.admin_view(self.link_view), name="marketing_referral_link"),
            path(
                "<path:object_id>/unlink/",
                site.admin_view(self.unlink_view),
                name="marketing_referral_unlink",
            ),
            *super().get_urls(),
        ]

    @action(description=_("Link a referral by hand"), url_path="link-referral")
    def link_list(self, request: HttpRequest) -> HttpResponse:
        return HttpResponseRedirect(reverse(f"{self.admin_site.name}:marketing_referral_link"))

    @action(description=_("Unlink"), url_path="unlink-referral")
    def unlink_detail(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return HttpResponseRedirect(
            reverse(f"{self.admin_site.name}:marketing_referral_unlink", args=[object_id])
        )

    def link_view(self, request: HttpRequest) -> HttpResponse:
        form = LinkForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                referral = link_referral(
                    client=form.cleaned_data["client"],
                    partner=form.cleaned_data["partner"],
                    reason=form.cleaned_data["reason"],
                    actor=staff_actor(request),
                )
            except BillowError as exc:
                form.add_error(None, f"{exc.message} ({exc.code})")
            else:
                self.message_user(request, _("Linked."), messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse(f"{self.admin_site.name}:marketing_referral_change", args=[referral.pk])
                )
        return _form_page(request, self, str(_("Link a referral by hand")), form, "")

    def unlink_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        referral = get_object_or_404(Referral, pk=object_id, unlinked_at__isnull=True)
        form = ReasonForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                unlink_referral(
                    client=referral.client,
                    reason=form.cleaned_data["reason"],
                    actor=staff_actor(request),
                )
            except BillowError as exc:
                form.add_error(None, f"{exc.message} ({exc.code})")
            else:
                self.message_user(request, _("Unlinked."), messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse(f"{self.admin_site.name}:marketing_referral_changelist")
                )
        intro = str(_("Client #%(client)s stops earning rewards for referrer %(partner)s.")) % {
            "client": referral.client_id,
            "partner": referral.partner_id,
        }
        return _form_page(request, self, str(_("Unlink a referral")), form, intro)

    @admin.action(description=_("Export CSV"))
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Referral]) -> HttpResponse:
        rows = (
            (
                r.id,
                r.client_id,
                r.name,
                r.email,
                r.joined_at.isoformat(),
                r.source,
                r.source_detail,
                r.first_purchase.isoformat() if r.first_purchase else "",
                r.last_purchase.isoformat() if r.last_purchase else "",
                r.total_charges_minor,
                r.paid_minor,
                ",".join(str(i) for i in r.rule_ids),
                r.unlinked_at.isoformat() if r.unlinked_at else "",
            )
            for r in list_referral_rows(queryset)
        )
        return csv_response("referrals", REFERRAL_CSV, rows)


@admin.register(ReferralReward)
class ReferralRewardAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = ("day", "partner", "rule", "amount_minor", "currency", "payout", "run_day")
    list_select_related = ("partner", "rule", "payout")
    list_filter = ("currency", "partner__program")
    date_hierarchy = "day"
    actions = ["export_csv"]

    @admin.action(description=_("Export CSV"))
    def export_csv(self, request: HttpRequest, queryset: QuerySet[ReferralReward]) -> HttpResponse:
        rows = queryset.order_by("day", "id").values_list(
            "id", "day", "partner_id", "rule_id", "amount_minor", "currency", "payout_id"
        )
        return csv_response(
            "referral-rewards",
            ["id", "day", "partner_id", "rule_id", "amount_minor", "currency", "payout_id"],
            rows,
        )


@admin.register(ReferralPayout)
class ReferralPayoutAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = (
        "month",
        "partner",
        "amount_minor",
        "currency",
        "method",
        "status",
        "decided_by",
        "decided_at",
    )
    list_select_related = ("partner",)
    list_filter = ("status", "method", "currency")
    actions = ["confirm_selected", "export_csv"]
    actions_detail = ["reject_detail"]

    def get_urls(self) -> list[URLPattern]:
        site = self.admin_site
        return [
            path(
                "<path:object_id>/reject/",
                site.admin_view(self.reject_view),
                name="marketing_referralpayout_reject",
            ),
            *super().get_urls(),
        ]

    @admin.action(description=_("Confirm selected bank payouts as paid"))
    def confirm_selected(self, request: HttpRequest, queryset: QuerySet[ReferralPayout]) -> None:
        done = 0
        for payout in queryset.filter(status=PayoutStatus.AWAITING):
            try:
                confirm_bank_payout(payout=payout, actor=staff_actor(request))
                done += 1
            except BillowError as exc:
                self.message_user(request, f"{exc.message} ({exc.code})", messages.ERROR)
        self.message_user(request, _("Confirmed %s payouts.") % done, messages.SUCCESS)

    @action(description=_("Reject"), url_path="reject-payout")
    def reject_detail(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return HttpResponseRedirect(
            reverse(f"{self.admin_site.name}:marketing_referralpayout_reject", args=[object_id])
        )

    def reject_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        payout = get_object_or_404(ReferralPayout, pk=object_id)
        form = ReasonForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                reject_bank_payout(
                    payout=payout, reason=form.cleaned_data["reason"], actor=staff_actor(request)
                )
            except BillowError as exc:
                form.add_error(None, f"{exc.message} ({exc.code})")
            else:
                self.message_user(
                    request, _("Rejected: the rewards wait for the next 1st."), messages.SUCCESS
                )
                return HttpResponseRedirect(
                    reverse(f"{self.admin_site.name}:marketing_referralpayout_changelist")
                )
        return _form_page(request, self, str(_("Reject a bank payout")), form, "")

    @admin.action(description=_("Export CSV"))
    def export_csv(self, request: HttpRequest, queryset: QuerySet[ReferralPayout]) -> HttpResponse:
        rows = queryset.order_by("month", "id").values_list(
            "id",
            "month",
            "partner_id",
            "amount_minor",
            "currency",
            "method",
            "status",
            "decided_by",
            "decided_at",
        )
        return csv_response(
            "referral-payouts",
            [
                "id",
                "month",
                "partner_id",
                "amount_minor",
                "currency",
                "method",
                "status",
                "decided_by",
                "decided_at",
            ],
            rows,
        )


@admin.register(ReferralEvent)
class ReferralEventAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = ("created_at", "program", "actor_kind", "actor_id", "type")
    list_filter = ("type", "program")
    readonly_fields = ("created_at", "program", "actor_kind", "actor_id", "type", "data")
    actions = ["export_csv"]

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    @admin.action(description=_("Export CSV"))
    def export_csv(self, request: HttpRequest, queryset: QuerySet[ReferralEvent]) -> HttpResponse:
        rows = (
            (e.pk, e.created_at.isoformat(), e.program_id, e.actor_kind, e.actor_id, e.type, e.data)
            for e in queryset.order_by("id")
        )
        return csv_response(
            "referral-history",
            ["id", "at", "program_id", "actor_kind", "actor_id", "type", "data"],
            rows,
        )
