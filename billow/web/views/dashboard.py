from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from billow.accounts.models import ClientPermission, Provider
from billow.billing.actions import take_promised_payment
from billow.core import clock
from billow.core.errors import BillowError
from billow.web import formatting, selectors
from billow.web.access import actor_of, client_of, client_user_of, client_view
from billow.web.views.common import refused


@client_view()
def dashboard(request: HttpRequest) -> HttpResponse:
    client = client_of(request)
    info = selectors.get_dashboard(client)
    recent = selectors.list_services(client)[:5]
    may_bill = client_user_of(request).has_permission(ClientPermission.BILLING)
    context = {"info": info, "recent": recent, "may_bill": may_bill}
    return render(request, "web/dashboard.html", context)


@client_view(ClientPermission.BILLING)
@require_POST
def promised_payment(request: HttpRequest) -> HttpResponse:
    """Take the promised payment offered with a provider in a currency (the dashboard's
    button); a refusal shows its code and changes nothing."""
    client = client_of(request)
    provider_id = request.POST.get("provider_id", "")
    currency = request.POST.get("currency", "")
    offers = {
        (str(o.provider_id), o.offer.currency): o
        for o in selectors.list_promise_offers(client, today=clock.today())
    }
    if (provider_id, currency) not in offers:
        messages.error(request, _("No promised payment is offered here."))
        return redirect("web:dashboard")
    try:
        promise = take_promised_payment(
            client=client,
            provider=Provider.objects.get(pk=int(provider_id)),
            currency=currency,
            actor=actor_of(request),
        )
    except BillowError as exc:
        return refused(request, exc, "web:dashboard")
    messages.success(
        request,
        _("Promised payment of %(amount)s taken until %(day)s; suspended services resume.")
        % {
            "amount": formatting.money(promise.amount_minor, promise.currency),
            "day": formatting.day(promise.expires_on),
        },
    )
    return redirect("web:dashboard")
