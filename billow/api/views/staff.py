"""Staff endpoints: catalog (read + create/update through catalog actions), clients, services
and the ledger (read-only). Need a staff user, the ``staff:*`` scope and model permissions."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from billow.accounts.models import Client, Provider
from billow.api.serializers import staff as s
from billow.api.serializers.client import ServiceOut
from billow.api.views.base import BaseView, validated
from billow.catalog import actions as catalog
from billow.catalog.models import Addon, ProductType, Tariff
from billow.ledger.models import LedgerAccount, LedgerTransaction
from billow.services import discovery
from billow.services.models import ModuleInstance, Service


def _perms(model: str, *, write: str = "add") -> dict[str, tuple[str, ...]]:
    app, name = model.split(".")
    return {
        "GET": (f"{app}.view_{name}",),
        "POST": (f"{app}.{write}_{name}",),
        "PATCH": (f"{app}.change_{name}",),
    }


class StaffView(BaseView):
    scope = "staff"


# --- catalog --------------------------------------------------------------------------------


class ProductTypeListView(StaffView, generics.ListAPIView):
    serializer_class = s.ProductTypeOut
    staff_perms = _perms("catalog.producttype")

    def get_queryset(self) -> QuerySet[Any]:
        return ProductType.objects.order_by("sort", "id")

    @extend_schema(request=s.ProductTypeIn, responses={201: s.ProductTypeOut})
    def post(self, request: Request) -> Response:
        data = validated(s.ProductTypeIn, request.data)
        pt = catalog.create_product_type(actor=self.actor, **data)
        return Response(s.ProductTypeOut(pt).data, status=status.HTTP_201_CREATED)


def _tariffs() -> QuerySet[Tariff]:
    return Tariff.objects.prefetch_related("prices").order_by("id")


class TariffListView(StaffView, generics.ListAPIView):
    serializer_class = s.StaffTariffOut
    staff_perms = _perms("catalog.tariff")

    def get_queryset(self) -> QuerySet[Any]:
        return _tariffs()

    @extend_schema(request=s.TariffIn, responses={201: s.StaffTariffOut})
    def post(self, request: Request) -> Response:
        data = validated(s.TariffIn, request.data)
        product_type = self.get_or_404(ProductType.objects.all(), pk=data.pop("product_type_id"))
        self.get_or_404(Provider.objects.all(), pk=data["provider_id"])
        tariff = catalog.create_tariff(product_type=product_type, actor=self.actor, **data)
        return Response(s.StaffTariffOut(tariff).data, status=status.HTTP_201_CREATED)


class TariffDetailView(StaffView):
    staff_perms = _perms("catalog.tariff")

    @extend_schema(responses=s.StaffTariffOut)
    def get(self, request: Request, tariff_id: int) -> Response:
        return Response(s.StaffTariffOut(self.get_or_404(_tariffs(), pk=tariff_id)).data)

    @extend_schema(request=s.TariffPatchIn, responses=s.StaffTariffOut)
    def patch(self, request: Request, tariff_id: int) -> Response:
        tariff = self.get_or_404(_tariffs(), pk=tariff_id)
        data = validated(s.TariffPatchIn, request.data)
        catalog.update_tariff(tariff=tariff, actor=self.actor, **data)
        return Response(s.StaffTariffOut(self.get_or_404(_tariffs(), pk=tariff_id)).data)


class TariffPriceView(StaffView):
    staff_perms = {"POST": ("catalog.change_tariff",)}

    @extend_schema(request=s.TariffPriceIn, responses=s.StaffTariffOut)
    def post(self, request: Request, tariff_id: int) -> Response:
        tariff = self.get_or_404(_tariffs(), pk=tariff_id)
        data = validated(s.TariffPriceIn, request.data)
        catalog.set_tariff_price(tariff=tariff, actor=self.actor, **data)
        return Response(s.StaffTariffOut(self.get_or_404(_tariffs(), pk=tariff_id)).data)


class AddonListView(StaffView, generics.ListAPIView):
    serializer_class = s.AddonOut
    staff_perms = _perms("catalog.addon")

    def get_queryset(self) -> QuerySet[Any]:
        tariff = self.get_or_404(Tariff.objects.all(), pk=self.kwargs["tariff_id"])
        return Addon.objects.filter(tariff_id=tariff.pk).order_by("sort", "id")

    @extend_schema(request=s.AddonIn, responses={201: s.AddonOut})
    def post(self, request: Request, tariff_id: int) -> Response:
        tariff = self.get_or_404(Tariff.objects.all(), pk=tariff_id)
        data = validated(s.AddonIn, request.data)
        addon = catalog.create_addon(tariff=tariff, actor=self.actor, **data)
        return Response(s.AddonOut(addon).data, status=status.HTTP_201_CREATED)


# --- clients, services, ledger -----------------------------------------------------------------


class ClientListView(StaffView, generics.ListAPIView):
    serializer_class = s.StaffClientOut
    staff_perms = _perms("accounts.client")

    def get_queryset(self) -> QuerySet[Any]:
        return Client.objects.order_by("id")


class ClientDetailView(StaffView):
    staff_perms = _perms("accounts.client")

    @extend_schema(responses=s.StaffClientOut)
    def get(self, request: Request, client_id: int) -> Response:
        return Response(s.StaffClientOut(self.get_or_404(Client.objects.all(), pk=client_id)).data)


class StaffServiceListView(StaffView, generics.ListAPIView):
    serializer_class = ServiceOut
    staff_perms = _perms("services.service")

    @extend_schema(parameters=[s.StaffServiceFilter])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        f = validated(s.StaffServiceFilter, self.request.query_params)
        rows = Service.objects.select_related("tariff").order_by("id")
        if f.get("client_id"):
            rows = rows.filter(client_id=f["client_id"])
        if f.get("status"):
            rows = rows.filter(status=f["status"])
        return rows


class StaffServiceDetailView(StaffView):
    staff_perms = _perms("services.service")

    @extend_schema(responses=ServiceOut)
    def get(self, request: Request, service_id: int) -> Response:
        rows = Service.objects.select_related("tariff")
        return Response(ServiceOut(self.get_or_404(rows, pk=service_id)).data)


class DiscoveryView(StaffView):
    """Run discovery on one module instance: the remote objects compared with its services."""

    staff_perms = {"GET": ("services.change_moduleinstance",)}

    @extend_schema(responses=s.DiscoveryOut)
    def get(self, request: Request, module_instance_id: int) -> Response:
        instance = self.get_or_404(ModuleInstance.objects.all(), pk=module_instance_id)
        report = discovery.run_discovery(instance=instance)
        data = {
            "instance_id": report.instance_id,
            "remote_count": report.remote_count,
            "linked_count": report.linked_count,
            "counts": report.counts(),
            "rows": report.rows,
        }
        return Response(s.DiscoveryOut(data).data)


class LedgerAccountListView(StaffView, generics.ListAPIView):
    serializer_class = s.LedgerAccountOut
    staff_perms = _perms("ledger.ledgeraccount")

    def get_queryset(self) -> QuerySet[Any]:
        return LedgerAccount.objects.order_by("id")


class LedgerTransactionListView(StaffView, generics.ListAPIView):
    serializer_class = s.LedgerTransactionOut
    staff_perms = _perms("ledger.ledgertransaction")

    def get_queryset(self) -> QuerySet[Any]:
        return LedgerTransaction.objects.prefetch_related("entries").order_by("-id")
