"""The VM block of a client's service page: facts (OS, addresses, resources), the live power
state (polled by htmx) and the OS reinstall form. Power actions, password and note are in
``views.services``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from billow.accounts.models import ClientPermission
from billow.catalog.models import ParameterValue
from billow.core.errors import BillowError
from billow.services import console, vm_actions, vm_info
from billow.web import selectors
from billow.web.access import actor_of, client_of, client_view
from billow.web.views.common import refused

SERVICES = ClientPermission.SERVICES
DETAIL = "web:service_detail"


def vm_context(service: Any, supported: list[str]) -> dict[str, Any]:
    """Facts for the VM block (``web/services/_vm.html``)."""
    facts = vm_info.vm_facts(service)
    context: dict[str, Any] = {
        "facts": facts,
        "reinstall": "reinstall" in supported,
        "console": console.offers_console(service),
    }
    if context["reinstall"]:
        context["os_choices"] = list(
            ParameterValue.objects.filter(
                parameter__product_type_id=service.tariff.product_type_id,
                parameter__intname__in=vm_info.OS_PARAMETERS,
                is_active=True,
            ).values_list("intname", "name")
        )
    return context


@client_view(SERVICES)
@require_GET
def service_vm_state(request: HttpRequest, pk: int) -> HttpResponse:
    """The power state pill, read from the host (htmx polls it every 15 s)."""
    service = selectors.get_service(client_of(request), pk)
    state = vm_info.power_state(service)
    return render(request, "web/services/_vm_state.html", {"state": state, "s": service})


@client_view(SERVICES)
@require_POST
def service_vm_reinstall(request: HttpRequest, pk: int) -> HttpResponse:
    service = selectors.get_service(client_of(request), pk)
    if "reinstall" not in vm_actions.supported_vm_actions(service):
        messages.error(request, _("This service has no server actions."))
        return redirect(DETAIL, pk)
    try:
        vm_actions.reinstall_vm(
            service=service,
            os=request.POST.get("os", ""),
            password=request.POST.get("password", ""),
            ssh_key=request.POST.get("ssh_key", ""),
            confirm=request.POST.get("confirm") == "yes",
            actor=actor_of(request),
        )
    except BillowError as exc:
        return refused(request, exc, DETAIL, pk)
    messages.success(request, _("The reinstall was requested; the server restarts."))
    return redirect(DETAIL, pk)


@client_view(SERVICES)
@require_GET
def service_console(request: HttpRequest, pk: int) -> HttpResponse:
    """The noVNC page with a fresh one-minute ticket; only the client's own service (another
    client's service is not found)."""
    service = selectors.get_service(client_of(request), pk)
    try:
        ticket = console.issue_ticket(service)
    except BillowError as exc:
        return refused(request, exc, DETAIL, pk)
    response = render(request, "web/services/console.html", {"s": service, "ticket": ticket})
    origin = urlsplit(ticket.url)
    # the page's CSP allows websocket connections to the console proxy only
    response._csp_update = {"connect-src": [f"{origin.scheme}://{origin.netloc}"]}  # type: ignore[attr-defined]
    response["Cache-Control"] = "no-store"
    return response
