"""One client page in the staff admin (issue 13.2): summary (status, balances per currency,
credit terms, groups, payers and their verification), services, invoices, payments, the
ledger statement, notes and activity, each read through the owning app's selectors, plus the
"log in as client" button. URL: ``admin:accounts_client_overview``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib import admin
from django.contrib.admin import AdminSite
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.translation import gettext as _

from billow.accounts.models import AccountEvent, Client, ClientStatus, ClientUser, Payer
from billow.accounts.selectors import list_client_users, list_payers_for_client
from billow.billing.client_status import active_days, derive_client_statuses
from billow.billing.models import ClientBillingSettings
from billow.core import clock
from billow.invoicing.models import Invoice
from billow.ledger.models import LedgerEntry
from billow.ledger.selectors import list_statement_for_client
from billow.payments.models import Payment
from billow.payments.selectors import list_payments_for_client
from billow.services.models import Service, ServiceEvent
from billow.web import formatting
from billow.web import selectors as client_selectors
from billow.web.impersonation import login_as_client, may_impersonate

ROWS = 20


@dataclass(frozen=True, slots=True)
class Activity:
    at: Any
    what: str
    actor: str
    subject: str


@dataclass(frozen=True, slots=True)
class ClientOverview:
    client: Client
    status: str
    status_label: str
    stored_status: str
    balances: list[tuple[str, str]]  # currency, formatted
    credit_terms: list[ClientBillingSettings]
    groups: list[str]
    payers: list[Payer]
    users: list[ClientUser]
    services: list[Service]
    services_total: int
    invoices: list[Invoice]
    payments: list[Payment]
    statement: list[LedgerEntry]
    activity: list[Activity]


def _activity(client: Client) -> list[Activity]:
    """The newest account and service events of the client, merged by time."""
    account = [
        Activity(e.created_at, e.type, f"{e.actor_kind}:{e.actor_id or '-'}", "")
        for e in AccountEvent.objects.filter(client=client).order_by("-created_at", "-id")[:ROWS]
    ]
    service = [
        Activity(
            e.created_at,
            e.type,
            f"{e.actor_kind}:{e.actor_id or '-'}",
            e.service.name or f"#{e.service_id}",
        )
        for e in ServiceEvent.objects.filter(service__client=client)
        .select_related("service")
        .order_by("-created_at", "-id")[:ROWS]
    ]
    return sorted(account + service, key=lambda a: a.at, reverse=True)[:ROWS]


def get_client_overview(client: Client, *, today: date | None = None) -> ClientOverview:
    """Everything the staff client page shows (a few queries per block)."""
    today = today or clock.today()
    status = derive_client_statuses(client_ids=[client.pk])[client.pk]
    services = client_selectors.list_services(client)
    # Newest first: the window's running balance is computed over every row before the LIMIT.
    statement = list(
        list_statement_for_client(client.pk).order_by("-transaction__created_at", "-id")[:ROWS]
    )
    return ClientOverview(
        client=client,
        status=status,
        status_label=str(ClientStatus(status).label),
        stored_status=client.status,
        balances=[
            (c, formatting.money(v, c))
            for c, v in sorted(client_selectors.get_balances(client).items())
        ],
        credit_terms=list(ClientBillingSettings.objects.filter(client=client).order_by("currency")),
        groups=sorted(g.name for g in client.groups.all()),
        payers=list(list_payers_for_client(client)),
        users=list(list_client_users(client)),
        services=list(services[:ROWS]),
        services_total=services.count(),
        invoices=list(Invoice.objects.filter(client=client).order_by("-issued_at", "-id")[:ROWS]),
        payments=list(list_payments_for_client(client)[:ROWS]),
        statement=statement,
        activity=_activity(client),
    )


def client_page(request: HttpRequest, client_id: int) -> HttpResponse:
    client = get_object_or_404(Client, pk=client_id)
    model_admin = admin.site._registry[Client]
    if not model_admin.has_view_permission(request, client):
        return HttpResponse(status=403)
    overview = get_client_overview(client)
    context = {
        **admin.site.each_context(request),
        "title": _("Client #%(id)s %(name)s") % {"id": client.pk, "name": client.name},
        "opts": Client._meta,
        "original": client,
        "o": overview,
        "active_days": active_days(),
        "may_impersonate": may_impersonate(request.user),
        "money": formatting.money,
    }
    return TemplateResponse(request, "web/admin/client_page.html", context)


def client_page_urls(site: AdminSite) -> list[URLPattern]:
    return [
        path(
            "accounts/client/<int:client_id>/overview/",
            site.admin_view(client_page),
            name="accounts_client_overview",
        ),
        path(
            "accounts/client/<int:client_id>/login-as/",
            site.admin_view(login_as_client),
            name="accounts_client_login_as",
        ),
    ]
