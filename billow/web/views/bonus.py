"""The client's bonus program pages: account status, consent, history with sources."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from billow.accounts.models import ClientPermission
from billow.core.errors import BillowError
from billow.marketing.bonus import actions as bonus
from billow.web import bonus_selectors
from billow.web.access import actor_of, client_of, client_view

BILLING = ClientPermission.BILLING


def client_ip(request: HttpRequest) -> str | None:
    """The address the consent came from (the proxy's ``REMOTE_ADDR`` setting decides)."""
    return request.META.get("REMOTE_ADDR") or None


@client_view(BILLING)
@require_GET
def bonus_account(request: HttpRequest) -> HttpResponse:
    sections = bonus_selectors.list_bonus_sections(client_of(request))
    return render(request, "web/bonus/account.html", {"sections": sections})


@client_view(BILLING)
@require_POST
def bonus_consent(request: HttpRequest) -> HttpResponse:
    raw = request.POST.get("provider", "")
    if not raw.isdigit() or request.POST.get("agree") != "on":
        messages.error(request, _("Tick the box to accept the program's terms."))
        return redirect("web:bonus_account")
    client = client_of(request)
    if int(raw) not in {
        s.status.program.provider_id for s in bonus_selectors.list_bonus_sections(client)
    }:
        messages.error(request, _("No such bonus program."))
        return redirect("web:bonus_account")
    try:
        bonus.give_bonus_consent(
            client=client, provider_id=int(raw), ip=client_ip(request), actor=actor_of(request)
        )
    except BillowError as exc:
        messages.error(request, f"{exc} ({exc.code})")
    else:
        messages.success(request, _("You have joined the bonus program."))
    return redirect("web:bonus_account")
