"""Staff admin pages of usage statistics: the list of approaching and exceeded rows (a row per
service and addon, filterable) and a service's usage chart (the client area's chart, for any
service). Registered on the admin site in ``web/admin.py``; they only parse input and read
``usage.charts``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext_lazy as _

from billow.accounts.models import Provider
from billow.services.models import Service
from billow.usage import charts
from billow.usage.rating_models import ResourceState
from billow.web.views.usage import chart_context, csv_filename, csv_response

PAGE_SIZE = 50
PERMISSION = "services.view_service"


class StatusFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            ("", _("Approaching or exceeded")),
            (ResourceState.APPROACHING.value, ResourceState.APPROACHING.label),
            (ResourceState.EXCEEDED.value, ResourceState.EXCEEDED.label),
        ],
    )
    over_limit = forms.BooleanField(label=_("Held at the limit"), required=False)
    provider = forms.ModelChoiceField(
        label=_("Provider"), required=False, queryset=Provider.objects.order_by("name")
    )
    addon = forms.CharField(label=_("Resource"), required=False, max_length=100)
    q = forms.CharField(label=_("Client or service"), required=False, max_length=100)


def _context(request: HttpRequest, admin_site: Any, title: str) -> dict[str, Any]:
    return {**admin_site.each_context(request), "title": title}


def statuses_view(admin_site: Any) -> Any:
    def view(request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm(PERMISSION):
            return HttpResponse(status=403)
        form = StatusFilterForm(request.GET or None)
        data = form.cleaned_data if form.is_valid() else {}
        rows = charts.list_resource_statuses(
            state=data.get("state") or "",
            over_limit=bool(data.get("over_limit")),
            provider_id=data["provider"].pk if data.get("provider") else None,
            addon=data.get("addon") or "",
            search=data.get("q") or "",
        )
        page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        context = _context(request, admin_site, str(_("Usage: approaching and exceeded")))
        context |= {"form": form, "page": page, "query": query.urlencode()}
        return TemplateResponse(request, "web/admin/usage_statuses.html", context)

    return view


def service_view(admin_site: Any) -> Any:
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        if not request.user.has_perm(PERMISSION):
            return HttpResponse(status=403)
        service = get_object_or_404(Service.objects.select_related("tariff", "client"), pk=pk)
        context = _context(
            request, admin_site, str(_("Usage of %(service)s") % {"service": service})
        )
        chart = chart_context(service, request.GET)
        context |= chart | {
            "s": service,
            "form_action": reverse(f"{admin_site.name}:usage_service", args=[pk]),
            "csv_url": reverse(f"{admin_site.name}:usage_service_csv", args=[pk]),
        }
        status = 400 if chart["form"].errors else 200
        return TemplateResponse(request, "web/admin/usage_service.html", context, status=status)

    return view


def service_csv_view(admin_site: Any) -> Any:
    def view(request: HttpRequest, pk: int) -> HttpResponse | StreamingHttpResponse:
        if not request.user.has_perm(PERMISSION):
            return HttpResponse(status=403)
        service = get_object_or_404(Service.objects.select_related("tariff"), pk=pk)
        chart = chart_context(service, request.GET)["chart"]
        if chart is None:
            return HttpResponse(status=400)
        return csv_response(chart, csv_filename(service.pk, chart))

    return view


def usage_urls(admin_site: Any) -> list[URLPattern]:
    wrap = admin_site.admin_view
    return [
        path("usage/statuses/", wrap(statuses_view(admin_site)), name="usage_statuses"),
        path("usage/services/<int:pk>/", wrap(service_view(admin_site)), name="usage_service"),
        path(
            "usage/services/<int:pk>/usage.csv",
            wrap(service_csv_view(admin_site)),
            name="usage_service_csv",
        ),
    ]
