"""The staff service operations in the admin (issue 13.1): a form per operation (amounts in
major units), for one service (the change page's buttons) or for the services selected in the
list (bulk actions), always through a confirmation page listing what will change per service.
The forms only parse; each row runs the one action the API and the CLI call
(``billow.services.actions`` / ``billow.billing.actions``); a refused row is reported with its
code and the others still run.

It lives in billing because the operations that move money are billing's and the services app
may not import billing (``billing.admin`` registers the Service admin with this mixin)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext_lazy as _
from unfold.decorators import action

from billow.accounts.models import Client
from billow.billing import actions as billing
from billow.billing.proration import next_period_end
from billow.catalog.models import Tariff
from billow.core.actors import Actor
from billow.core.errors import BillowError
from billow.core.money import Money
from billow.core.periods import PERIOD_CHOICES
from billow.services import actions as services
from billow.services.errors import ServiceValidationError
from billow.services.models import ModuleInstance, Service

# -- forms (parse only) -------------------------------------------------------------------------


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Kept in each service's history."),
    )


class SuspendForm(ReasonForm):
    abuse = forms.BooleanField(label=_("For abuse"), required=False)


class PaidUntilForm(ReasonForm):
    paid_until = forms.DateField(label=_("Paid until (exclusive)"))


class SpecialPriceForm(ReasonForm):
    amount = forms.DecimalField(
        label=_("Special period price"),
        required=False,
        min_value=Decimal("0"),
        max_digits=20,
        help_text=_("In major units, e.g. 7.50, in each service's currency. Blank: clear it."),
    )


class RenewForm(ReasonForm):
    period = forms.ChoiceField(
        label=_("Period"),
        required=False,
        choices=[("", _("the service's auto-renew period")), *PERIOD_CHOICES],
    )
    charge = forms.BooleanField(label=_("Charge the client"), required=False, initial=True)


class PlanForm(ReasonForm):
    tariff = forms.ModelChoiceField(
        label=_("Tariff"), queryset=Tariff.objects.order_by("name"), required=False
    )
    addon_values = forms.JSONField(
        label=_("Addon values"), required=False, help_text=_('e.g. {"cpu": 4}')
    )
    charge = forms.BooleanField(label=_("Charge the difference"), required=False, initial=True)

    def clean_addon_values(self) -> dict[str, Any]:
        value = self.cleaned_data.get("addon_values") or {}
        if not isinstance(value, dict):
            raise forms.ValidationError(_("Enter a JSON object."))
        return value


class DeleteForm(ReasonForm):
    when = forms.ChoiceField(
        label=_("When"),
        required=False,
        choices=[
            ("", _("per the product type's deletion policy")),
            ("now", _("now")),
            ("period_end", _("at the end of the paid period")),
        ],
    )
    refund = forms.BooleanField(label=_("Refund the unused part"), required=False)


class AttachForm(ReasonForm):
    external_id = forms.CharField(label=_("Remote object id"), max_length=200)
    module_instance = forms.ModelChoiceField(
        label=_("Module instance"), queryset=ModuleInstance.objects.all(), required=False
    )


class CreateServiceForm(ReasonForm):
    client = forms.ModelChoiceField(label=_("Client"), queryset=Client.objects.order_by("id"))
    tariff = forms.ModelChoiceField(label=_("Tariff"), queryset=Tariff.objects.order_by("name"))
    period = forms.ChoiceField(label=_("Period"), choices=PERIOD_CHOICES)
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="USD")
    addon_values = forms.JSONField(label=_("Addon values"), required=False)
    parameters = forms.JSONField(label=_("Parameters"), required=False)
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    paid_until = forms.DateField(
        label=_("Paid until (exclusive)"),
        required=False,
        help_text=_("Without a charge; blank: today (the billing run charges from then)."),
    )
    charge = forms.BooleanField(label=_("Charge the first period now"), required=False)
    open_in_module = forms.BooleanField(label=_("Open it in the module"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("addon_values", "parameters"):
            if not isinstance(data.get(name) or {}, dict):
                self.add_error(name, _("Enter a JSON object."))
        return data

    def new_service(self) -> services.NewService:
        d = self.cleaned_data
        return services.NewService(
            client=d["client"],
            tariff=d["tariff"],
            period=d["period"],
            currency=d["currency"].upper(),
            addon_values=d.get("addon_values") or {},
            parameters={k: str(v) for k, v in (d.get("parameters") or {}).items()},
            name=d.get("name") or "",
            paid_until=d.get("paid_until"),
            open_in_module=bool(d.get("open_in_module")),
        )


def _price(data: dict[str, Any], currency: str) -> int | None:
    amount = data.get("amount")
    if amount is None:
        return None
    money = Money.from_decimal(amount, currency)
    if money.to_decimal() != amount:
        raise ServiceValidationError(
            f"too many decimal places for {currency}", code="invalid_amount"
        )
    return money.amount_minor


def _money(amount_minor: int | None, currency: str) -> str:
    return "—" if amount_minor is None else str(Money(amount_minor, currency))


# -- the operations -----------------------------------------------------------------------------


Run = Callable[[Service, dict[str, Any], Actor], Any]
Describe = Callable[[Service, dict[str, Any]], str]


@dataclass(frozen=True)
class StaffOperation:
    """One operation: its label, form, what it will change and the action it runs."""

    label: Any
    form: type[ReasonForm]
    describe: Describe
    run: Run
    bulk: bool = True


def _renew_end(s: Service, d: dict[str, Any]) -> str:
    if s.paid_until is None:
        return str(_("not charged yet: refused"))
    per = d.get("period") or s.auto_renew_period or s.period
    try:
        end: date | str = next_period_end(s.paid_until, per, s.billing_mode, s.anchor_day)
    except BillowError as exc:
        end = exc.code
    charged = _("charged") if d.get("charge") else _("free")
    return f"{_('paid until')} {s.paid_until} → {end} ({charged})"


def _plan_text(s: Service, d: dict[str, Any]) -> str:
    tariff = d.get("tariff") or s.tariff
    charged = _("difference charged") if d.get("charge") else _("free")
    addons = json.dumps(d.get("addon_values") or {}, sort_keys=True)
    return f"{s.tariff} → {tariff}; {_('addons')} {addons} ({charged})"


def _delete_text(s: Service, d: dict[str, Any]) -> str:
    when = d.get("when") or _("per policy")
    refund = _("with refund") if d.get("refund") else _("no refund")
    return f"{s.status} → {_('deleted')} ({when}, {refund})"


OPERATIONS: dict[str, StaffOperation] = {
    "suspend": StaffOperation(
        _("Suspend"),
        SuspendForm,
        lambda s, d: f"{s.status} → {'suspended_abuse' if d.get('abuse') else 'suspended_staff'}",
        lambda s, d, a: services.suspend_service_by_staff(
            service=s, reason=d["reason"], abuse=d["abuse"], actor=a
        ),
    ),
    "resume": StaffOperation(
        _("Resume"),
        ReasonForm,
        lambda s, d: f"{s.status} → active",
        lambda s, d, a: services.resume_service_by_staff(service=s, reason=d["reason"], actor=a),
    ),
    "paid-until": StaffOperation(
        _("Change paid-until"),
        PaidUntilForm,
        lambda s, d: f"{s.paid_until} → {d['paid_until']}",
        lambda s, d, a: services.set_service_paid_until_by_staff(
            service=s, paid_until=d["paid_until"], reason=d["reason"], actor=a
        ),
    ),
    "special-price": StaffOperation(
        _("Set or clear the special price"),
        SpecialPriceForm,
        lambda s, d: (
            f"{_money(s.special_price_minor, s.currency)} → "
            f"{_money(_price(d, s.currency), s.currency)}"
        ),
        lambda s, d, a: services.set_service_special_price(
            service=s, amount_minor=_price(d, s.currency), reason=d["reason"], actor=a
        ),
    ),
    "renew": StaffOperation(
        _("Renew"),
        RenewForm,
        _renew_end,
        lambda s, d, a: billing.renew_service_by_staff(
            service=s, period=d["period"] or None, charge=d["charge"], reason=d["reason"], actor=a
        ),
    ),
    "plan": StaffOperation(
        _("Change tariff or addons"),
        PlanForm,
        _plan_text,
        lambda s, d, a: billing.change_service_plan(
            service=s,
            tariff=d["tariff"],
            addon_values=d["addon_values"],
            charge=d["charge"],
            reason=d["reason"],
            actor=a,
        ),
    ),
    "delete": StaffOperation(
        _("Delete"),
        DeleteForm,
        _delete_text,
        lambda s, d, a: billing.delete_service_by_staff(
            service=s, when=d["when"] or None, refund=d["refund"], reason=d["reason"], actor=a
        ),
    ),
    "rerun": StaffOperation(
        _("Re-run the failed operation"),
        ReasonForm,
        lambda s, d: f"{s.status}: {_('latest failed operation queued again')}",
        lambda s, d, a: services.rerun_failed_operation(service=s, reason=d["reason"], actor=a),
    ),
    "attach": StaffOperation(
        _("Attach a remote object"),
        AttachForm,
        lambda s, d: f"{s.external_id or '—'} → {d['external_id']}",
        lambda s, d, a: services.attach_remote_object(
            service=s,
            external_id=d["external_id"],
            module_instance=d["module_instance"],
            reason=d["reason"],
            actor=a,
        ),
        bulk=False,
    ),
}


def run_operation(
    op: StaffOperation, rows: QuerySet[Service], data: dict[str, Any], actor: Actor
) -> tuple[list[int], list[tuple[int, str, str]]]:
    """Run ``op`` on each service: the ids done and the refusals (id, code, message)."""
    done: list[int] = []
    refused: list[tuple[int, str, str]] = []
    for service in rows:
        try:
            op.run(service, data, actor)
        except BillowError as exc:
            refused.append((service.pk, exc.code, exc.message))
        else:
            done.append(service.pk)
    return done, refused


# -- the admin ----------------------------------------------------------------------------------


def _bulk_action(slug: str) -> Callable[..., HttpResponse]:
    op = OPERATIONS[slug]

    def bulk(admin_obj: Any, request: HttpRequest, queryset: QuerySet[Service]) -> HttpResponse:
        return admin_obj.redirect_to_operation(slug, [s.pk for s in queryset])

    bulk.__name__ = f"staff_{slug.replace('-', '_')}"
    return action(description=f"{op.label}…", permissions=["change"])(bulk)


def _detail_action(slug: str) -> Callable[..., HttpResponse]:
    op = OPERATIONS[slug]

    def detail(admin_obj: Any, request: HttpRequest, object_id: str) -> HttpResponse:
        return admin_obj.redirect_to_operation(slug, [int(object_id)])

    detail.__name__ = f"staff_{slug.replace('-', '_')}_detail"
    return action(description=op.label, url_path=f"staff-{slug}", permissions=["change"])(detail)


class StaffOperationsAdminMixin:
    """Adds the operations to a Service ``ModelAdmin``: bulk actions, detail buttons, a
    "create for a client" page, and the one form-and-confirmation view behind them."""

    admin_site: Any
    model: type[Service]
    message_user: Callable[..., None]
    has_change_permission: Callable[..., bool]
    has_add_permission: Callable[..., bool]

    staff_bulk_actions = [
        f"staff_{slug.replace('-', '_')}" for slug, op in OPERATIONS.items() if op.bulk
    ]
    staff_detail_actions = [f"staff_{slug.replace('-', '_')}_detail" for slug in OPERATIONS]

    staff_list_actions = ["staff_create_link"]

    def has_staff_create_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("services.add_service"))

    @action(
        description=_("Create for a client"),
        url_path="staff-create-link",
        permissions=["staff_create"],
    )
    def staff_create_link(self, request: HttpRequest) -> HttpResponse:
        return HttpResponseRedirect(
            reverse(f"{self.admin_site.name}:services_service_staff_create")
        )

    def redirect_to_operation(self, slug: str, ids: list[int]) -> HttpResponse:
        url = reverse(f"{self.admin_site.name}:services_service_staff_op", args=[slug])
        return HttpResponseRedirect(f"{url}?ids={','.join(str(i) for i in ids)}")

    def staff_urls(self) -> list[URLPattern]:
        return [
            path(
                "staff-create/",
                self.admin_site.admin_view(self.staff_create_view),
                name="services_service_staff_create",
            ),
            path(
                "staff-op/<slug:slug>/",
                self.admin_site.admin_view(self.staff_operation_view),
                name="services_service_staff_op",
            ),
        ]

    def staff_operation_view(self, request: HttpRequest, slug: str) -> HttpResponse:
        """GET: the form and the services. POST: the same page with what will change per
        service and a Confirm button; POST with ``confirm``: run it on each service."""
        op = OPERATIONS.get(slug)
        if op is None or not self.has_change_permission(request):
            raise PermissionDenied
        raw_ids = request.POST.get("ids") or request.GET.get("ids", "")
        ids = [int(i) for i in raw_ids.split(",") if i.strip().isdigit()]
        rows = Service.objects.filter(pk__in=ids).select_related("tariff", "client")
        if not op.bulk and len(ids) != 1:
            raise PermissionDenied
        form = op.form(request.POST or None)
        preview: list[tuple[Service, str]] = []
        if request.method == "POST" and form.is_valid():
            if "confirm" in request.POST:
                return self._run(request, op, rows, form.cleaned_data)
            preview = [(s, self._describe(op, s, form.cleaned_data)) for s in rows]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": op.label,
            "form": form,
            "rows": rows,
            "preview": preview,
            "ids": ",".join(str(s.pk) for s in rows),
        }
        return TemplateResponse(request, "admin/billing/staff_operation.html", context)

    def staff_create_view(self, request: HttpRequest) -> HttpResponse:
        """Create a service for a client (``create_service_for_client``)."""
        if not self.has_staff_create_permission(request):
            raise PermissionDenied
        form = CreateServiceForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                service = billing.create_service_for_client(
                    new=form.new_service(),
                    charge=form.cleaned_data["charge"],
                    reason=form.cleaned_data["reason"],
                    actor=Actor.staff(request.user),
                )
            except BillowError as exc:
                form.add_error(None, f"{exc.message} ({exc.code})")
            else:
                self.message_user(request, _("Service #%d created.") % service.pk)
                return HttpResponseRedirect(
                    reverse(f"{self.admin_site.name}:services_service_change", args=[service.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Create a service for a client"),
            "form": form,
        }
        return TemplateResponse(request, "admin/billing/staff_create_service.html", context)

    @staticmethod
    def _describe(op: StaffOperation, s: Service, data: dict[str, Any]) -> str:
        try:
            return op.describe(s, data)
        except BillowError as exc:
            return f"{exc.code}: {exc.message}"

    def _run(
        self,
        request: HttpRequest,
        op: StaffOperation,
        rows: QuerySet[Service],
        data: dict[str, Any],
    ) -> HttpResponse:
        done, refused = run_operation(op, rows, data, Actor.staff(request.user))
        for pk, code, message in refused:
            self.message_user(request, f"#{pk}: {code}: {message}", messages.ERROR)
        if done:
            self.message_user(
                request, _("%(op)s: %(n)d service(s) done.") % {"op": op.label, "n": len(done)}
            )
        if len(done) + len(refused) == 1 and done:
            target = reverse(f"{self.admin_site.name}:services_service_change", args=[done[0]])
        else:
            target = reverse(f"{self.admin_site.name}:services_service_changelist")
        return HttpResponseRedirect(target)


for _slug in OPERATIONS:
    _name = f"staff_{_slug.replace('-', '_')}"
    setattr(StaffOperationsAdminMixin, _name, _bulk_action(_slug))
    setattr(StaffOperationsAdminMixin, f"{_name}_detail", _detail_action(_slug))
