"""Client endpoints: everything the client area does, scoped to the caller's client.

Objects of another client are 404 (never 403), so ids leak nothing.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from billow.accounts import actions as accounts
from billow.accounts.models import ClientUser, Payer
from billow.accounts.selectors import (
    list_client_users,
    list_group_ids_for_client,
    list_payers_for_client,
    list_provider_ids_for_client,
)
from billow.api import selectors
from billow.api.idempotency import idempotent
from billow.api.serializers import client as s
from billow.api.views.base import ClientView, validated
from billow.billing import actions as billing
from billow.catalog.models import Tariff, TariffPrice
from billow.catalog.selectors import list_orderable_tariffs
from billow.ledger.selectors import list_statement_for_client
from billow.ledger.statement import describe_statement
from billow.notifications.actions import mark_notification_read
from billow.notifications.selectors import count_unread_for_client, list_notifications_for_client
from billow.services import vm_actions
from billow.services.actions import (
    create_service,
    resume_by_client,
    set_service_auto_renew,
    suspend_by_client,
)
from billow.services.models import Service

# --- profile, balances, statement ---------------------------------------------------------------


class MeView(ClientView):
    scope = "account"

    @extend_schema(responses=s.MeOut, operation_id="me_retrieve")
    def get(self, request: Request) -> Response:
        cu = self.client_user
        data = {
            "user_id": request.user.pk,
            "email": request.user.email,
            "client_id": cu.client_id,
            "client_name": cu.client.name,
            "language": cu.client.language,
            "country": cu.client.country,
            "status": cu.client.status,
            "is_owner": cu.is_owner,
            "permissions": sorted(s.PERMISSIONS if cu.is_owner else cu.permissions or []),
            "unread_notifications": count_unread_for_client(client_id=cu.client_id),
        }
        return Response(s.MeOut(data).data)


class BalanceListView(ClientView, generics.ListAPIView):
    scope = "billing"
    serializer_class = s.BalanceOut
    pagination_class = None

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.list_balances_for_client(self.client_id)


class StatementView(ClientView, generics.ListAPIView):
    """Ledger entries of the client's balances in date order (oldest first), each with what
    happened and the balance right after it; filters: currency, kind, date_from / date_to."""

    scope = "billing"
    serializer_class = s.StatementLineOut

    @extend_schema(parameters=[s.StatementFilter])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        f = validated(s.StatementFilter, request.query_params)
        entries = list_statement_for_client(
            self.client_id,
            currency=f.get("currency"),
            kind=f.get("kind"),
            date_from=f.get("date_from"),
            date_to=f.get("date_to"),
        )
        page = self.paginate_queryset(entries)
        lines = describe_statement(page if page is not None else entries)
        return self.get_paginated_response(self.get_serializer(lines, many=True).data)


# --- services -------------------------------------------------------------------------------


class ServicesMixin(ClientView):
    scope = "services"

    def get_service(self, service_id: int) -> Service:
        return self.get_or_404(selectors.list_services_for_client(self.client_id), pk=service_id)

    def service_data(self, service_id: int) -> dict[str, Any]:
        return dict(s.ServiceOut(self.get_service(service_id)).data)


class ServiceListView(ServicesMixin, generics.ListAPIView):
    serializer_class = s.ServiceOut

    @extend_schema(parameters=[s.ServiceFilter])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        f = validated(s.ServiceFilter, self.request.query_params)
        rows = selectors.list_services_for_client(self.client_id, status=f.get("status"))
        # Plain rows, not models: ServiceOut renders either, and 50 models a page cost.
        return rows.values(*s.SERVICE_OUT_VALUES)

    @extend_schema(request=s.ServiceCreateIn, responses={201: s.ServiceOut})
    @idempotent
    def post(self, request: Request) -> Response:
        data = validated(s.ServiceCreateIn, request.data)
        tariff = self.get_or_404(_orderable(self.client_user.client), pk=data.pop("tariff_id"))
        service = create_service(
            client=self.client_user.client,
            tariff=tariff,
            actor=self.actor,
            **data,
        )
        return Response(self.service_data(service.pk), status=status.HTTP_201_CREATED)


def _orderable(client: Any) -> QuerySet[Tariff]:
    groups = list_group_ids_for_client(client)
    ids: set[int] = set()
    for provider_id in list_provider_ids_for_client(client):
        ids.update(
            list_orderable_tariffs(provider_id=provider_id, group_ids=groups).values_list(
                "pk", flat=True
            )
        )
    return Tariff.objects.filter(pk__in=ids).select_related("product_type")


class ServiceDetailView(ServicesMixin):
    @extend_schema(responses=s.ServiceOut)
    def get(self, request: Request, service_id: int) -> Response:
        return Response(self.service_data(service_id))


class ServiceEventsView(ServicesMixin, generics.ListAPIView):
    serializer_class = s.ServiceEventOut

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.list_service_events(self.get_service(self.kwargs["service_id"]))


class RenewView(ServicesMixin):
    @extend_schema(request=s.RenewIn, responses={200: s.RenewOut})
    @idempotent
    def post(self, request: Request, service_id: int) -> Response:
        service = self.get_service(service_id)
        data = validated(s.RenewIn, request.data)
        expense = billing.renew_service(
            service=service, period=data.get("period"), actor=self.actor
        )
        body = {"expense": s.ExpenseOut(expense).data, "service": self.service_data(service_id)}
        return Response(body)


class AutoRenewView(ServicesMixin):
    @extend_schema(request=s.AutoRenewIn, responses={200: s.ServiceOut})
    def post(self, request: Request, service_id: int) -> Response:
        service = self.get_service(service_id)
        data = validated(s.AutoRenewIn, request.data)
        period = (data.get("period") or service.period) if data["enabled"] else ""
        set_service_auto_renew(service=service, period=period, actor=self.actor)
        return Response(self.service_data(service_id))


class DeleteServiceView(ServicesMixin):
    @extend_schema(request=s.DeleteIn, responses={200: s.ServiceOut})
    @idempotent
    def post(self, request: Request, service_id: int) -> Response:
        service = self.get_service(service_id)
        data = validated(s.DeleteIn, request.data)
        billing.delete_service(
            service=service, when=data.get("when"), refund=data["refund"], actor=self.actor
        )
        return Response(self.service_data(service_id))


class SuspendServiceView(ServicesMixin):
    """A client in a reseller group (``allow_suspend_resume``) suspends an active service;
    ``suspend_resume_not_allowed`` for everyone else."""

    @extend_schema(request=None, responses={200: s.ServiceOut})
    def post(self, request: Request, service_id: int) -> Response:
        suspend_by_client(service=self.get_service(service_id), actor=self.actor)
        return Response(self.service_data(service_id))


class ResumeServiceView(ServicesMixin):
    """Resume a service the client suspended (not one suspended by staff or for non-payment)."""

    @extend_schema(request=None, responses={200: s.ServiceOut})
    def post(self, request: Request, service_id: int) -> Response:
        resume_by_client(service=self.get_service(service_id), actor=self.actor)
        return Response(self.service_data(service_id))


class ChangeTariffView(ServicesMixin):
    @extend_schema(request=s.ChangeTariffIn, responses={200: s.ServiceOut})
    @idempotent
    def post(self, request: Request, service_id: int) -> Response:
        service = self.get_service(service_id)
        data = validated(s.ChangeTariffIn, request.data)
        tariff = self.get_or_404(_orderable(self.client_user.client), pk=data["tariff_id"])
        billing.change_tariff(
            service=service,
            tariff=tariff,
            actor=self.actor,
            addon_values=data.get("addon_values"),
        )
        return Response(self.service_data(service_id))


class ChangeAddonsView(ServicesMixin):
    @extend_schema(request=s.ChangeAddonsIn, responses={200: s.ServiceOut})
    @idempotent
    def post(self, request: Request, service_id: int) -> Response:
        service = self.get_service(service_id)
        data = validated(s.ChangeAddonsIn, request.data)
        billing.change_addons(service=service, addon_values=data["addon_values"], actor=self.actor)
        return Response(self.service_data(service_id))


class PreviewView(ServicesMixin):
    """Price of the service after a tariff or addon change (reads only)."""

    scope_level = "read"

    @extend_schema(request=s.PreviewIn, responses={200: s.PreviewOut})
    def post(self, request: Request, service_id: int) -> Response:
        service = self.get_service(service_id)
        data = validated(s.PreviewIn, request.data)
        tariff_id = data.get("tariff_id")
        if tariff_id is not None:
            self.get_or_404(_orderable(self.client_user.client), pk=tariff_id)
        preview = selectors.preview_service_change(
            service, tariff_id=tariff_id, addon_values=data.get("addon_values")
        )
        return Response(s.PreviewOut(preview).data)


# --- VM actions -----------------------------------------------------------------------------


class VmView(ServicesMixin):
    """The VM actions the service's module offers and the service note."""

    @extend_schema(responses=s.VmOut)
    def get(self, request: Request, service_id: int) -> Response:
        service = self.get_service(service_id)
        data = {"actions": vm_actions.supported_vm_actions(service), "note": service.note}
        return Response(s.VmOut(data).data)


class VmActionView(ServicesMixin):
    @extend_schema(request=s.VmActionIn, responses={202: s.OperationOut})
    @idempotent
    def post(self, request: Request, service_id: int) -> Response:
        service = self.get_service(service_id)
        data = validated(s.VmActionIn, request.data)
        op = vm_actions.request_vm_action(service=service, action=data["action"], actor=self.actor)
        return Response(s.OperationOut(op).data, status=status.HTTP_202_ACCEPTED)


class VmPasswordView(ServicesMixin):
    @extend_schema(request=s.VmPasswordIn, responses={202: s.OperationOut})
    @idempotent
    def post(self, request: Request, service_id: int) -> Response:
        service = self.get_service(service_id)
        data = validated(s.VmPasswordIn, request.data)
        op = vm_actions.change_vm_password(
            service=service, password=data["password"], actor=self.actor
        )
        return Response(s.OperationOut(op).data, status=status.HTTP_202_ACCEPTED)


class VmNoteView(ServicesMixin):
    """Store the service note (and write it to the VM when the module can)."""

    @extend_schema(request=s.VmNoteIn, responses={200: s.VmOut})
    def put(self, request: Request, service_id: int) -> Response:
        service = self.get_service(service_id)
        data = validated(s.VmNoteIn, request.data)
        svc = vm_actions.set_service_note(service=service, note=data["note"], actor=self.actor)
        body = {"actions": vm_actions.supported_vm_actions(svc), "note": svc.note}
        return Response(s.VmOut(body).data)

    @extend_schema(
        request=s.VmNoteIn, responses={200: s.VmOut}, operation_id="service_vm_note_post"
    )
    def post(self, request: Request, service_id: int) -> Response:
        return self.put(request, service_id)


# --- payers ---------------------------------------------------------------------------------


class PayersMixin(ClientView):
    scope = "payers"

    def payers(self) -> QuerySet[Payer]:
        return list_payers_for_client(self.client_user.client)


class PayerListView(PayersMixin, generics.ListAPIView):
    serializer_class = s.PayerOut

    def get_queryset(self) -> QuerySet[Any]:
        return self.payers()

    @extend_schema(request=s.PayerIn, responses={201: s.PayerOut})
    def post(self, request: Request) -> Response:
        data = validated(s.PayerIn, request.data)
        payer = accounts.create_payer(client=self.client_user.client, actor=self.actor, **data)
        return Response(s.PayerOut(payer).data, status=status.HTTP_201_CREATED)


class PayerDetailView(PayersMixin):
    @extend_schema(responses=s.PayerOut)
    def get(self, request: Request, payer_id: int) -> Response:
        return Response(s.PayerOut(self.get_or_404(self.payers(), pk=payer_id)).data)

    @extend_schema(request=s.PayerPatchIn, responses=s.PayerOut)
    def patch(self, request: Request, payer_id: int) -> Response:
        payer = self.get_or_404(self.payers(), pk=payer_id)
        data = validated(s.PayerPatchIn, request.data)
        payer = accounts.update_payer(payer=payer, actor=self.actor, **data)
        return Response(s.PayerOut(payer).data)


# --- client users ---------------------------------------------------------------------------


class UsersMixin(ClientView):
    scope = "users"

    def users(self) -> QuerySet[ClientUser]:
        return list_client_users(self.client_user.client)


class ClientUserListView(UsersMixin, generics.ListAPIView):
    serializer_class = s.ClientUserOut

    def get_queryset(self) -> QuerySet[Any]:
        return self.users()

    @extend_schema(request=s.ClientUserIn, responses={201: s.ClientUserOut})
    def post(self, request: Request) -> Response:
        data = validated(s.ClientUserIn, request.data)
        user = accounts.invite_client_user(
            client=self.client_user.client, acting=self.client_user, actor=self.actor, **data
        )
        return Response(s.ClientUserOut(user).data, status=status.HTTP_201_CREATED)


class ClientUserDetailView(UsersMixin):
    @extend_schema(responses=s.ClientUserOut)
    def get(self, request: Request, client_user_id: int) -> Response:
        return Response(s.ClientUserOut(self.get_or_404(self.users(), pk=client_user_id)).data)

    @extend_schema(request=s.PermissionsIn, responses=s.ClientUserOut)
    def patch(self, request: Request, client_user_id: int) -> Response:
        user = self.get_or_404(self.users(), pk=client_user_id)
        data = validated(s.PermissionsIn, request.data)
        user = accounts.set_client_user_permissions(
            client_user=user, acting=self.client_user, actor=self.actor, **data
        )
        return Response(s.ClientUserOut(user).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, client_user_id: int) -> Response:
        user = self.get_or_404(self.users(), pk=client_user_id)
        accounts.remove_client_user(client_user=user, acting=self.client_user, actor=self.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- notifications --------------------------------------------------------------------------


class NotificationListView(ClientView, generics.ListAPIView):
    scope = "account"
    serializer_class = s.NotificationOut

    @extend_schema(parameters=[s.NotificationFilter])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        f = validated(s.NotificationFilter, self.request.query_params)
        return list_notifications_for_client(client_id=self.client_id, unread_only=f["unread"])


class NotificationReadView(ClientView):
    scope = "account"

    @extend_schema(request=None, responses=s.NotificationOut)
    def post(self, request: Request, notification_id: int) -> Response:
        row = mark_notification_read(
            notification_id=notification_id, client_id=self.client_id, actor=self.actor
        )
        return Response(s.NotificationOut(row).data)


# --- catalog --------------------------------------------------------------------------------


class CatalogMixin(ClientView):
    scope = "catalog"

    def tariffs(self) -> QuerySet[Tariff]:
        f = validated(s.CatalogFilter, self.request.query_params)
        prices = TariffPrice.objects.order_by("currency_id", "period")
        if f.get("currency"):
            prices = prices.filter(currency_id=f["currency"])
        return (
            _orderable(self.client_user.client)
            .prefetch_related(Prefetch("prices", queryset=prices))
            .order_by("sort", "name", "id")
        )


class CatalogTariffListView(CatalogMixin, generics.ListAPIView):
    serializer_class = s.CatalogTariffOut

    @extend_schema(parameters=[s.CatalogFilter])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        return self.tariffs()


class CatalogTariffDetailView(CatalogMixin):
    @extend_schema(parameters=[s.CatalogFilter], responses=s.CatalogTariffOut)
    def get(self, request: Request, tariff_id: int) -> Response:
        return Response(s.CatalogTariffOut(self.get_or_404(self.tariffs(), pk=tariff_id)).data)
