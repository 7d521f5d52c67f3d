"""Staff acting on what discovery found: adopt a remote object as a client's service, mark it as
the provider's own (or drop the mark), recreate a service's lost VM. The reading side is
``staff.DiscoveryView``; the admin offers the same three writes."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from billow.accounts.models import Client
from billow.api.idempotency import HEADER, idempotent
from billow.api.serializers import staff as s
from billow.api.serializers.client import ServiceOut
from billow.api.views.base import validated
from billow.api.views.staff import StaffView
from billow.catalog.models import Tariff
from billow.services import discovery
from billow.services.models import ModuleInstance, Service

INSTANCE_PERMS: dict[str, tuple[str, ...]] = {"POST": ("services.change_moduleinstance",)}


class _InstanceView(StaffView):
    staff_perms: dict[str, tuple[str, ...]] = INSTANCE_PERMS

    def instance(self, module_instance_id: int) -> ModuleInstance:
        return self.get_or_404(ModuleInstance.objects.all(), pk=module_instance_id)


class AdoptView(_InstanceView):
    """Adopt a VM without a service: a new active service of the client, linked to it."""

    staff_perms = {"POST": ("services.change_moduleinstance", "services.add_service")}

    @extend_schema(request=s.AdoptIn, responses={201: ServiceOut})
    @idempotent
    def post(self, request: Request, module_instance_id: int) -> Response:
        instance = self.instance(module_instance_id)
        data = validated(s.AdoptIn, request.data)
        client = self.get_or_404(Client.objects.all(), pk=data.pop("client_id"))
        tariff = self.get_or_404(Tariff.objects.all(), pk=data.pop("tariff_id"))
        service = discovery.adopt_remote_object(
            instance=instance,
            client=client,
            tariff=tariff,
            actor=self.actor,
            **data,
        )
        return Response(ServiceOut(service).data, status=status.HTTP_201_CREATED)


class SystemMarkView(_InstanceView):
    """Mark a remote object as the provider's own (discovery stops reporting it; idempotent)."""

    @extend_schema(request=s.SystemMarkIn, responses={201: s.SystemMarkOut})
    def post(self, request: Request, module_instance_id: int) -> Response:
        instance = self.instance(module_instance_id)
        data = validated(s.SystemMarkIn, request.data)
        mark = discovery.mark_system(instance=instance, actor=self.actor, **data)
        return Response(s.SystemMarkOut(mark).data, status=status.HTTP_201_CREATED)


class SystemUnmarkView(_InstanceView):
    """Drop a system mark: the object shows up in discovery again unless a service owns it."""

    @extend_schema(request=s.UnmarkIn, responses={200: s.RemovedOut})
    def post(self, request: Request, module_instance_id: int) -> Response:
        instance = self.instance(module_instance_id)
        data = validated(s.UnmarkIn, request.data)
        removed = discovery.unmark_system(instance=instance, external_id=data["external_id"])
        return Response(s.RemovedOut({"removed": removed}).data)


class RecreateView(StaffView):
    """Rebuild a service whose VM is gone, from its tariff and addons (queued operation)."""

    staff_perms = {"POST": ("services.change_service",)}

    @extend_schema(request=None, responses={202: s.StaffOperationOut})
    @idempotent
    def post(self, request: Request, service_id: int) -> Response:
        service = self.get_or_404(Service.objects.all(), pk=service_id)
        op = discovery.recreate_service_vm(
            service=service,
            actor=self.actor,
            key=f"api-recreate:{request.user.pk}:{request.headers[HEADER]}"[:200],
        )
        return Response(s.StaffOperationOut(op).data, status=status.HTTP_202_ACCEPTED)
