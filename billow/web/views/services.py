"""Services: list, detail, and the actions a client may take on one (renew now, auto-renew,
delete, change tariff or addons with a price preview)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_POST

from billow.accounts.models import ClientPermission
from billow.billing import actions as billing
from billow.core import clock
from billow.core.errors import BillowError
from billow.services import vm_actions
from billow.services.actions import (
    resume_by_client,
    set_service_auto_renew,
    suspend_by_client,
    take_open_secret,
)
from billow.services.modules.dcimanager6 import reveal_credentials
from billow.services.states import ServiceStatus
from billow.usage import charts
from billow.web import forms, selectors
from billow.web.access import actor_of, client_of, client_view
from billow.web.dedicated_selectors import server_facts
from billow.web.views import s3 as s3_views
from billow.web.views import services_vm
from billow.web.views.common import refused

SERVICES = ClientPermission.SERVICES
DETAIL = "web:service_detail"
#: Button labels of the VM power actions, in display order.
VM_ACTION_LABELS = {
    "start": _lazy("Start"),
    "stop": _lazy("Shut down"),
    "force_stop": _lazy("Power off"),
    "reboot": _lazy("Reboot"),
    "reset": _lazy("Reset"),
}


@client_view(SERVICES)
@require_GET
def service_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in ServiceStatus.values:
        status = ""
    services = selectors.list_services(client_of(request), status=status)
    context = {"services": services, "status": status, "statuses": ServiceStatus.choices}
    return render(request, "web/services/list.html", context)


def _page(request: HttpRequest, pk: int) -> selectors.ServicePage:
    service = selectors.get_service(client_of(request), pk)
    return selectors.get_service_page(client_of(request), service, may_manage=True)


@client_view(SERVICES)
@require_GET
def service_detail(request: HttpRequest, pk: int) -> HttpResponse:
    page = _page(request, pk)
    context: dict[str, Any] = {"page": page, "s": page.service}
    if page.tariffs:
        context["tariff_form"] = forms.ChangeTariffForm(tariffs=page.tariffs)
    if page.editable_addons:
        context["addons_form"] = forms.AddonsForm(addons=page.editable_addons)
    usage = charts.list_usage_for_services([page.service], today=clock.today())
    context["usage"] = usage[0] if usage else None
    supported = vm_actions.supported_vm_actions(page.service)
    if supported:
        context["vm"] = {
            "actions": [(a, VM_ACTION_LABELS[a]) for a in supported if a in VM_ACTION_LABELS],
            "password": "change_password" in supported,
            "note_max": vm_actions.NOTE_MAX_LENGTH,
            **services_vm.vm_context(page.service, supported),
        }
    context["s3"] = s3_views.storage_context(page.service)
    context["server"] = server_facts(page.service)
    return render(request, "web/services/detail.html", context)


@client_view(SERVICES)
@require_POST
def service_credentials(request: HttpRequest, pk: int) -> HttpResponse:
    """The dedicated server's root credentials, shown on this one answer and then forgotten."""
    page = _page(request, pk)
    token = take_open_secret(service=page.service)
    if token is None:
        messages.error(request, _("The credentials were already shown."))
        return redirect(DETAIL, pk)
    context: dict[str, Any] = {
        "page": page,
        "s": page.service,
        "server": server_facts(page.service),
        "credentials": reveal_credentials(token),
    }
    return render(request, "web/services/detail.html", context)


@client_view(SERVICES)
@require_POST
def service_renew(request: HttpRequest, pk: int) -> HttpResponse:
    page = _page(request, pk)
    if not page.can_renew:
        messages.error(request, _("This service cannot be renewed now."))
        return redirect(DETAIL, pk)
    try:
        billing.renew_service(service=page.service, actor=actor_of(request))
    except BillowError as exc:
        return refused(request, exc, DETAIL, pk)
    messages.success(request, _("The service was renewed."))
    return redirect(DETAIL, pk)


@client_view(SERVICES)
@require_POST
def service_auto_renew(request: HttpRequest, pk: int) -> HttpResponse:
    """Toggle auto-renewal: on for the service's period, or off. htmx gets the toggle back."""
    page = _page(request, pk)
    s = page.service
    if not page.can_toggle:
        messages.error(request, _("Auto-renewal cannot be changed for this service."))
        return redirect(DETAIL, pk)
    period = "" if s.auto_renew_period else s.period
    error = ""
    try:
        s = set_service_auto_renew(service=s, period=period, actor=actor_of(request))
    except BillowError as exc:
        error = f"{exc} ({exc.code})"
    if request.htmx:  # type: ignore[attr-defined]
        return render(
            request, "web/services/_auto_renew.html", {"s": s, "error": error, "page": page}
        )
    if error:
        messages.error(request, error)
    return redirect(DETAIL, pk)


@client_view(SERVICES)
def service_delete(request: HttpRequest, pk: int) -> HttpResponse:
    page = _page(request, pk)
    if not page.can_delete:
        messages.error(request, _("This service cannot be deleted."))
        return redirect(DETAIL, pk)
    form = forms.DeleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            billing.delete_service(service=page.service, refund=True, actor=actor_of(request))
        except BillowError as exc:
            return refused(request, exc, DETAIL, pk)
        messages.success(request, _("The service was deleted or scheduled for deletion."))
        return redirect(DETAIL, pk)
    return render(request, "web/services/delete.html", {"s": page.service, "form": form})


@client_view(SERVICES)
@require_GET
def service_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """htmx partial: what changing to the chosen tariff or addon values costs (the same rule
    as the change itself: ``billing.plan_change``)."""
    page = _page(request, pk)
    s = page.service
    if "tariff" in request.GET:
        try:
            tariff_id = selectors.get_tariff_for_change(s, int(request.GET["tariff"])).pk
        except ValueError:
            tariff_id = s.tariff_id
        # addon values carried over, as the change itself does
        preview = selectors.preview_plan(s, tariff_id=tariff_id, addon_values=None)
    else:
        form = forms.AddonsForm(request.GET, addons=page.editable_addons)
        form.is_valid()
        current = s.addon_values or {}
        changed = {
            k: v for k, v in form.cleaned_data.items() if v is not None and current.get(k) != v
        }
        preview = selectors.preview_plan(s, tariff_id=None, addon_values=changed)
    return render(request, "web/services/_preview.html", {"preview": preview, "s": s})


@client_view(SERVICES)
@require_POST
def service_change_tariff(request: HttpRequest, pk: int) -> HttpResponse:
    page = _page(request, pk)
    form = forms.ChangeTariffForm(request.POST, tariffs=page.tariffs)
    if not page.can_change or not form.is_valid():
        messages.error(request, _("Choose one of the offered tariffs."))
        return redirect(DETAIL, pk)
    tariff = selectors.get_tariff_for_change(page.service, form.cleaned_data["tariff"])
    try:
        billing.change_tariff(service=page.service, tariff=tariff, actor=actor_of(request))
    except BillowError as exc:
        return refused(request, exc, DETAIL, pk)
    messages.success(request, _("The tariff was changed."))
    return redirect(DETAIL, pk)


@client_view(SERVICES)
@require_POST
def service_change_addons(request: HttpRequest, pk: int) -> HttpResponse:
    page = _page(request, pk)
    form = forms.AddonsForm(request.POST, addons=page.editable_addons)
    if not page.editable_addons or not form.is_valid():
        messages.error(request, _("Check the values."))
        return redirect(DETAIL, pk)
    current = page.service.addon_values or {}
    changed = {k: v for k, v in form.cleaned_data.items() if current.get(k) != v}
    try:
        billing.change_addons(service=page.service, addon_values=changed, actor=actor_of(request))
    except BillowError as exc:
        return refused(request, exc, DETAIL, pk)
    messages.success(request, _("The configuration was changed."))
    return redirect(DETAIL, pk)


def _vm_page(request: HttpRequest, pk: int) -> selectors.ServicePage | None:
    """The service page when its module offers VM actions (else a message and None)."""
    page = _page(request, pk)
    if not vm_actions.supported_vm_actions(page.service):
        messages.error(request, _("This service has no server actions."))
        return None
    return page


@client_view(SERVICES)
@require_POST
def service_vm_action(request: HttpRequest, pk: int) -> HttpResponse:
    page = _vm_page(request, pk)
    if page is None:
        return redirect(DETAIL, pk)
    action = request.POST.get("action", "")
    try:
        vm_actions.request_vm_action(service=page.service, action=action, actor=actor_of(request))
    except BillowError as exc:
        return refused(request, exc, DETAIL, pk)
    messages.success(request, _("The server action was requested."))
    return redirect(DETAIL, pk)


@client_view(SERVICES)
@require_POST
def service_vm_password(request: HttpRequest, pk: int) -> HttpResponse:
    page = _vm_page(request, pk)
    if page is None:
        return redirect(DETAIL, pk)
    try:
        vm_actions.change_vm_password(
            service=page.service, password=request.POST.get("password", ""), actor=actor_of(request)
        )
    except BillowError as exc:
        return refused(request, exc, DETAIL, pk)
    messages.success(request, _("The password change was requested."))
    return redirect(DETAIL, pk)


@client_view(SERVICES)
@require_POST
def service_vm_note(request: HttpRequest, pk: int) -> HttpResponse:
    page = _vm_page(request, pk)
    if page is None:
        return redirect(DETAIL, pk)
    try:
        vm_actions.set_service_note(
            service=page.service, note=request.POST.get("note", ""), actor=actor_of(request)
        )
    except BillowError as exc:
        return refused(request, exc, DETAIL, pk)
    messages.success(request, _("The note was saved."))
    return redirect(DETAIL, pk)


def _client_suspension(request: HttpRequest, pk: int, *, resume: bool) -> HttpResponse:
    """Suspend (or resume) a reseller's own service; the module does it in the background."""
    page = _page(request, pk)
    if not (page.can_resume if resume else page.can_suspend):
        refusal = (
            _("This service cannot be resumed.")
            if resume
            else _("This service cannot be suspended.")
        )
        messages.error(request, refusal)
        return redirect(DETAIL, pk)
    act = resume_by_client if resume else suspend_by_client
    try:
        act(service=page.service, actor=actor_of(request))
    except BillowError as exc:
        return refused(request, exc, DETAIL, pk)
    done = _("The service is being resumed.") if resume else _("The service is being suspended.")
    messages.success(request, done)
    return redirect(DETAIL, pk)


@client_view(SERVICES)
@require_POST
def service_suspend(request: HttpRequest, pk: int) -> HttpResponse:
    """A reseller suspends their own active service."""
    return _client_suspension(request, pk, resume=False)


@client_view(SERVICES)
@require_POST
def service_resume(request: HttpRequest, pk: int) -> HttpResponse:
    """A reseller resumes a service they suspended."""
    return _client_suspension(request, pk, resume=True)
