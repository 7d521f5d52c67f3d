"""Usage statistics endpoints: a service's statistics addons in their current period and the
daily series of one over a range (client, scope ``services:read``; staff, ``staff:read``).
Another client's service is a 404, like every client-scoped object."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from billow.api.serializers import usage as s
from billow.api.views.base import validated
from billow.api.views.client import ServicesMixin
from billow.api.views.staff import StaffView
from billow.core import clock
from billow.services.models import Service
from billow.usage import charts
from billow.usage.chart_data import resolve_range

VIEW_SERVICES = {"GET": ("services.view_service",)}


def _current(service: Service) -> Response:
    rows = charts.list_usage_for_services([service], today=clock.today())
    addons = rows[0].addons if rows else []
    return Response(s.AddonUsageOut(addons, many=True).data)


def _series(service: Service, query: Any) -> Response:
    f = validated(s.UsageFilter, query)
    addon = charts.get_statistics_addon(service, f.get("addon"))
    if addon is None or (f.get("addon") and addon.intname != f["addon"]):
        raise Http404
    rng = resolve_range(
        f["range"], today=clock.today(), date_from=f.get("date_from"), date_to=f.get("date_to")
    )
    chart = charts.get_usage_chart(service, addon, rng)
    return Response(s.UsageSeriesOut(s.series_data(chart)).data)


class ServiceUsageView(ServicesMixin):
    """Each statistics addon of the service in its current rating period (the month so far,
    or today for addons rated per day): used, included, limit, status."""

    pagination_class = None

    @extend_schema(responses=s.AddonUsageOut(many=True), operation_id="services_usage_list")
    def get(self, request: Request, service_id: int) -> Response:
        return _current(self.get_service(service_id))


class ServiceUsageSeriesView(ServicesMixin):
    """One addon's usage a day over a range, with the month's running total, the days over
    the included amount, and each month's overage and its cost (the client area's chart)."""

    @extend_schema(parameters=[s.UsageFilter], responses=s.UsageSeriesOut)
    def get(self, request: Request, service_id: int) -> Response:
        return _series(self.get_service(service_id), request.query_params)


class StaffServiceUsageView(StaffView):
    staff_perms = VIEW_SERVICES
    pagination_class = None

    @extend_schema(responses=s.AddonUsageOut(many=True), operation_id="staff_services_usage_list")
    def get(self, request: Request, service_id: int) -> Response:
        return _current(self.get_or_404(Service.objects.select_related("tariff"), pk=service_id))


class StaffServiceUsageSeriesView(StaffView):
    staff_perms = VIEW_SERVICES

    @extend_schema(parameters=[s.UsageFilter], responses=s.UsageSeriesOut)
    def get(self, request: Request, service_id: int) -> Response:
        service = self.get_or_404(Service.objects.select_related("tariff"), pk=service_id)
        return _series(service, request.query_params)
