"""Admin search across kinds (issue 13.6): clients (email, name, payer name, VAT id),
services (name, external id, IP address in its parameters), invoices (number) and payments
(gateway id), grouped by kind. The search page (``admin:billow_search``) and the admin's
Ctrl-K command palette (unfold ``COMMAND.search_callback``) both use :func:`search_admin`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.contrib import admin
from django.contrib.admin import AdminSite
from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from unfold.dataclasses import SearchResult

from billow.accounts.models import Client
from billow.invoicing.models import Invoice
from billow.payments.models import Payment
from billow.services.models import Service
from billow.web import formatting

PER_KIND = 10
MIN_LENGTH = 2
_INVOICE_NUMBER = re.compile(r"^(?:inv-?)?(?:(\d{4})-)?0*(\d{1,9})$", re.IGNORECASE)
_IP_LIKE = re.compile(r"^[0-9a-f:.]{3,45}$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Hit:
    title: str
    detail: str
    url: str


@dataclass(frozen=True, slots=True)
class HitGroup:
    kind: str
    label: str
    hits: list[Hit] = field(default_factory=list)


def _clients(q: str) -> QuerySet[Client]:
    match = (
        Q(email__icontains=q)
        | Q(name__icontains=q)
        | Q(payers__name__icontains=q)
        | Q(payers__tax_id__iexact=q.replace(" ", ""))
        | Q(users__user__email__icontains=q)
    )
    if q.isdigit():
        match |= Q(pk=int(q))
    return Client.objects.filter(match).distinct().order_by("pk")


def _services(q: str) -> QuerySet[Service]:
    match = Q(name__icontains=q) | Q(external_id__iexact=q)
    rows = Service.objects.select_related("client", "tariff")
    if _IP_LIKE.match(q) and ("." in q or ":" in q):
        # The modules keep addresses in the service's parameters (JSON): match them as text.
        rows = rows.annotate(params_text=Cast("parameters", TextField()))
        match |= Q(params_text__contains=q)
    return rows.filter(match).order_by("-pk")


def _invoices(q: str) -> QuerySet[Invoice]:
    found = _INVOICE_NUMBER.match(q.strip())
    if found is None:
        return Invoice.objects.none()
    year, number = found.groups()
    rows = Invoice.objects.filter(number=int(number)).select_related("client")
    if year:
        rows = rows.filter(year=int(year))
    return rows.order_by("-year", "-number")


def _payments(q: str) -> QuerySet[Payment]:
    return (
        Payment.objects.filter(gateway_reference__iexact=q)
        .select_related("client", "method")
        .order_by("-pk")
    )


def search_admin(query: str, *, per_kind: int = PER_KIND) -> list[HitGroup]:
    """The hits of ``query`` per kind (empty kinds left out), at most ``per_kind`` each."""
    q = query.strip()
    if len(q) < MIN_LENGTH:
        return []
    groups = [
        HitGroup(
            "clients",
            _("Clients"),
            [
                Hit(
                    f"#{c.pk} {c.name}",
                    c.email,
                    reverse("admin:accounts_client_overview", args=[c.pk]),
                )
                for c in _clients(q)[:per_kind]
            ],
        ),
        HitGroup(
            "services",
            _("Services"),
            [
                Hit(
                    f"#{s.pk} {s.name or s.tariff.name}",
                    f"{s.client.name} · {s.get_status_display()}"
                    + (f" · {s.external_id}" if s.external_id else ""),
                    reverse("admin:services_service_change", args=[s.pk]),
                )
                for s in _services(q)[:per_kind]
            ],
        ),
        HitGroup(
            "invoices",
            _("Invoices"),
            [
                Hit(
                    i.display_number,
                    f"{i.client.name} · {formatting.money(i.total_minor, i.currency)}",
                    reverse("admin:invoicing_invoice_change", args=[i.pk]),
                )
                for i in _invoices(q)[:per_kind]
            ],
        ),
        HitGroup(
            "payments",
            _("Payments"),
            [
                Hit(
                    f"#{p.pk} {p.gateway_reference}",
                    f"{p.client.name} · {formatting.money(p.amount_minor, p.currency)}"
                    f" · {p.get_status_display()}",
                    reverse("admin:payments_payment_change", args=[p.pk]),
                )
                for p in _payments(q)[:per_kind]
            ],
        ),
    ]
    return [g for g in groups if g.hits]


def command_search(request: HttpRequest, search_term: str) -> list[SearchResult]:
    """unfold's Ctrl-K palette: the same hits, the kind in the description."""
    if not request.user.is_staff:
        return []
    return [
        SearchResult(title=h.title, description=f"{g.label} · {h.detail}", link=h.url, icon=None)
        for g in search_admin(search_term)
        for h in g.hits
    ]


def search_page(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    context = {
        **admin.site.each_context(request),
        "title": _("Search"),
        "query": query,
        "groups": search_admin(query),
        "too_short": 0 < len(query.strip()) < MIN_LENGTH,
    }
    return TemplateResponse(request, "web/admin/search.html", context)


def search_urls(site: AdminSite) -> list[URLPattern]:
    return [path("find/", site.admin_view(search_page), name="billow_search")]
