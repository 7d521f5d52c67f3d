"""The partner page (referral link, promo code, clicks, referrals, rewards by month, joining a
program) and the click-registration endpoint an external site calls (reference §2.2)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from billow.accounts.models import ClientPermission
from billow.core.errors import BillowError
from billow.marketing.referrals.attribution import join_referral_program, register_click
from billow.marketing.referrals.selectors import (
    get_partner_info,
    list_joinable_programs,
    list_partners_for_client,
)
from billow.web.access import actor_of, client_of, client_view
from billow.web.views.common import refused

BILLING = ClientPermission.BILLING


@client_view(BILLING)
def partner_page(request: HttpRequest) -> HttpResponse:
    client = client_of(request)
    partners = [get_partner_info(p) for p in list_partners_for_client(client)]
    context = {"partners": partners, "joinable": list(list_joinable_programs(client))}
    return render(request, "web/referrals/partner.html", context)


@client_view(BILLING)
@require_POST
def partner_join(request: HttpRequest) -> HttpResponse:
    client = client_of(request)
    program_id = request.POST.get("program", "")
    program = (
        list_joinable_programs(client).filter(pk=int(program_id)).first()
        if program_id.isdigit()
        else None
    )
    if program is None:
        raise Http404
    try:
        join_referral_program(client=client, program=program, actor=actor_of(request))
    except BillowError as exc:
        return refused(request, exc, "web:referrals")
    messages.success(request, _("You take part in the referral program."))
    return redirect("web:referrals")


@csrf_exempt
@require_http_methods(["GET", "POST"])
def register_click_view(request: HttpRequest) -> JsonResponse:
    """``?p=<URL-encoded link>``: record a click of the link's partner and return its id
    (``{"click_id": ...}``), to be passed on sign-up as ``?click=<id>``. The link must be
    exactly the program's website URL plus ``?from=<partner id>``."""
    link = request.POST.get("p") or request.GET.get("p", "")
    try:
        click = register_click(url=link, ip=request.META.get("REMOTE_ADDR"))
    except BillowError as exc:
        return JsonResponse(exc.as_dict(), status=exc.http_status)
    return JsonResponse({"click_id": click.token})
