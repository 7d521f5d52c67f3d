from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from billow.accounts.models import ClientPermission
from billow.web import selectors
from billow.web.access import client_of, client_user_of, client_view


@client_view()
def dashboard(request: HttpRequest) -> HttpResponse:
    client = client_of(request)
    info = selectors.get_dashboard(client)
    recent = selectors.list_services(client)[:5]
    may_bill = client_user_of(request).has_permission(ClientPermission.BILLING)
    context = {"info": info, "recent": recent, "may_bill": may_bill}
    return render(request, "web/dashboard.html", context)
