"""Usage statistics in the client area: the "Statistics" page (every service with statistics
addons, each addon's use in its current period) and a service's statistics page (the daily
chart of one addon over a range, its months, the data table and CSV). The staff admin's pages
(``web/admin_usage.py``) render the same chart context."""

from __future__ import annotations

import calendar
import csv
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from billow.accounts.models import ClientPermission
from billow.core import clock
from billow.services.models import Service
from billow.usage import charts
from billow.usage.chart_data import DateRange, resolve_range
from billow.web import selectors
from billow.web.access import client_of, client_view
from billow.web.forms import UsageRangeForm

SERVICES = ClientPermission.SERVICES
CSV_COLUMNS = ["day", "addon", "unit", "value", "month_to_date", "included", "over_included"]


@client_view(SERVICES)
@require_GET
def statistics(request: HttpRequest) -> HttpResponse:
    rows = charts.list_usage_for_client(client_of(request).pk, today=clock.today())
    return render(request, "web/usage/list.html", {"rows": rows})


def _plain(value: Any) -> str:
    """A Decimal as plain digits without trailing zeros (``12.500000`` -> ``12.5``)."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def chart_json(chart: charts.UsageChart) -> dict[str, Any]:
    """What ``usage.js`` draws: UTC midnights, values as decimal strings, translated labels."""
    return {
        "days": [calendar.timegm(p.day.timetuple()) for p in chart.points],
        "values": [_plain(p.value) for p in chart.points],
        "mtd": [_plain(p.month_to_date) for p in chart.points],
        "over": [p.over for p in chart.points],
        "included": _plain(chart.included),
        "limit": None if chart.limit is None else _plain(chart.limit),
        "per_day": chart.per_day,
        "unit": chart.unit,
        "locale": translation.get_language() or "en",
        "labels": {
            "within": _("Daily use"),
            "over": _("Over the included amount"),
            "mtd": _("Month to date"),
            "included": _("Included"),
            "limit": _("Limit"),
            "axis_daily": _("Per day, %(unit)s") % {"unit": chart.unit},
            "axis_mtd": _("Month to date, %(unit)s") % {"unit": chart.unit},
        },
    }


def chart_context(service: Service, query: Mapping[str, Any]) -> dict[str, Any]:
    """The chart of the addon and range in ``query``; ``chart`` is None when the range is
    invalid (the form carries the errors) or the service has no statistics addon."""
    form = UsageRangeForm(query or None)
    valid = form.is_valid() if query else True
    data = form.cleaned_data if query and valid else {"range": "month"}
    addon = charts.get_statistics_addon(service, data.get("addon"))
    context: dict[str, Any] = {
        # the range the radios show: as resolved, or as sent when the form was refused
        "checked_range": data["range"] if valid else form.data.get("range", "month"),
        "form": form,
        "addon": addon,
        "addons": charts.statistics_addons([service.tariff_id]).get(service.tariff_id, []),
    }
    if not valid or addon is None:
        return context | {"chart": None}
    rng = resolve_range(
        data["range"],
        today=clock.today(),
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
    )
    chart = charts.get_usage_chart(service, addon, rng)
    return context | {
        "chart": chart,
        "chart_json": chart_json(chart),
        "range_name": rng.name,
        "query": _query(addon.intname, rng),
    }


def _query(intname: str, rng: DateRange) -> str:
    params = {"addon": intname, "range": rng.name}
    if rng.name == "custom":
        params |= {"date_from": rng.date_from.isoformat(), "date_to": rng.date_to.isoformat()}
    return urlencode(params)


@client_view(SERVICES)
@require_GET
def service_usage(request: HttpRequest, pk: int) -> HttpResponse:
    service = selectors.get_service(client_of(request), pk)
    context = chart_context(service, request.GET)
    status = 400 if context["form"].errors else 200
    return render(request, "web/usage/service.html", {"s": service, **context}, status=status)


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(chart: charts.UsageChart, filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    addon, unit, included = chart.addon.intname, chart.unit, _plain(chart.included)

    def rows() -> Iterator[str]:
        yield writer.writerow(CSV_COLUMNS)
        for p in chart.points:
            line = [p.day.isoformat(), addon, unit, _plain(p.value), _plain(p.month_to_date)]
            yield writer.writerow([*line, included, "yes" if p.over else "no"])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_filename(service_id: int, chart: charts.UsageChart) -> str:
    rng = chart.range
    return f"usage-{service_id}-{chart.addon.intname}-{rng.date_from}-{rng.date_to}.csv"


@client_view(SERVICES)
@require_GET
def service_usage_csv(request: HttpRequest, pk: int) -> HttpResponse | StreamingHttpResponse:
    """The chart's days as CSV: exact decimals, UTC days, one row a day of the range."""
    service = selectors.get_service(client_of(request), pk)
    context = chart_context(service, request.GET)
    chart = context.get("chart")
    if chart is None:
        form = context["form"]
        errors = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in form.errors.items())
        return HttpResponseBadRequest(
            _("Invalid range: %(errors)s") % {"errors": errors or _("no statistics addon")},
            content_type="text/plain; charset=utf-8",
        )
    return csv_response(chart, csv_filename(service.pk, chart))
