"""Staff API writes (issue 13.3): the service operations (the same actions as the admin and
the CLI), client create / update, payers, balance adjustments.

Scope ``staff:write`` plus the Django model permission of each view (``staff_perms``); every
POST that creates or moves money or status takes an ``Idempotency-Key`` (a replay returns the
first response). Refusals are the client API's error shape (``code``, ``message``, ``details``).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from billow.accounts import actions as accounts
from billow.accounts.models import Client, Payer, Provider
from billow.accounts.profile import update_client_profile
from billow.api.idempotency import HEADER, idempotent
from billow.api.serializers import client as cs
from billow.api.serializers import staff as s
from billow.api.serializers import staff_ops as so
from billow.api.views.base import validated
from billow.api.views.staff import (
    ClientDetailView,
    ClientListView,
    StaffServiceListView,
    StaffView,
)
from billow.billing import actions as billing
from billow.catalog.models import Tariff
from billow.catalog.models.currency import Currency
from billow.core.errors import ValidationError
from billow.ledger.actions import adjust_client_balance
from billow.ledger.models import AccountKind, LedgerAccount
from billow.ledger.selectors import get_or_create_account
from billow.services import actions as services
from billow.services.models import ModuleInstance, Service

CHANGE_SERVICE: dict[str, tuple[str, ...]] = {"POST": ("services.change_service",)}
DELETE_SERVICE: dict[str, tuple[str, ...]] = {"POST": ("services.delete_service",)}


def _service_out(service: Service) -> dict[str, Any]:
    fresh = Service.objects.select_related("tariff").get(pk=service.pk)
    return dict(cs.ServiceOut(fresh).data)


class StaffServicesView(StaffServiceListView):
    """List services; create a service for a client, with or without charging its first
    period, opened in the module or active at once."""

    staff_perms = {**StaffServiceListView.staff_perms, "POST": ("services.add_service",)}

    @extend_schema(request=so.StaffServiceCreateIn, responses={201: cs.ServiceOut})
    @idempotent
    def post(self, request: Request) -> Response:
        data = validated(so.StaffServiceCreateIn, request.data)
        client = self.get_or_404(Client.objects.all(), pk=data.pop("client_id"))
        tariff = self.get_or_404(Tariff.objects.all(), pk=data.pop("tariff_id"))
        charge, reason = data.pop("charge"), data.pop("reason")
        new = services.NewService(client=client, tariff=tariff, **data)
        service = billing.create_service_for_client(
            new=new, charge=charge, actor=self.actor, reason=reason
        )
        return Response(_service_out(service), status=status.HTTP_201_CREATED)


class _ServiceOpView(StaffView):
    staff_perms: dict[str, tuple[str, ...]] = CHANGE_SERVICE

    def service(self, service_id: int) -> Service:
        return self.get_or_404(Service.objects.all(), pk=service_id)


class PaidUntilView(_ServiceOpView):
    @extend_schema(request=so.PaidUntilIn, responses=cs.ServiceOut)
    @idempotent
    def post(self, request: Request, service_id: int) -> Response:
        data = validated(so.PaidUntilIn, request.data)
        svc = services.set_service_paid_until_by_staff(
            service=self.service(service_id), actor=self.actor, **data
        )
        return Response(_service_out(svc))


class SpecialPriceView(_ServiceOpView):
    @extend_schema(request=so.SpecialPriceIn, responses=cs.ServiceOut)
    @idempotent
    def post(self, request: Request, service_id: int) -> Response:
        data = validated(so.SpecialPriceIn, request.data)
        svc = services.set_service_special_price(
            service=self.service(service_id), actor=self.actor, **data
        )
        return Response(_service_out(svc))


class PlanView(_ServiceOpView):
    @extend_schema(request=so.PlanIn, responses=cs.ServiceOut)
    @idempotent
    def post(self, request: Request, service_id: int) -> Response:
        data = validated(so.PlanIn, request.data)
        tariff_id = data.pop("tariff_id")
        tariff = self.get_or_404(Tariff.objects.all(), pk=tariff_id) if tariff_id else None
        svc = billing.change_service_plan(
            service=self.service(service_id), tariff=tariff, actor=self.actor, **data
        )
        return Response(_service_out(svc))


class RenewView(_ServiceOpView):
    @extend_schema(request=so.StaffRenewIn, responses=cs.ServiceOut)
    @idempotent
    def post(self, request: Request, service_id: int) -> Response:
        data = validated(so.StaffRenewIn, request.data)
        svc = billing.renew_service_by_staff(
            service=self.service(service_id), actor=self.actor, **data
        )
        return Response(_service_out(svc))


class SuspendView(_ServiceOpView):
    @extend_schema(request=so.SuspendIn, responses=cs.ServiceOut)
    @idempotent
    def post(self, request: Request, service_id: int) -> Response:
        data = validated(so.SuspendIn, request.data)
        svc = services.suspend_service_by_staff(
            service=self.service(service_id), actor=self.actor, **data
        )
        return Response(_service_out(svc))


class ResumeView(_ServiceOpView):
    @extend_schema(request=so.ReasonIn, responses=cs.ServiceOut)
    @idempotent
    def post(self, request: Request, service_id: int) -> Response:
        data = validated(so.ReasonIn, request.data)
        svc = services.resume_service_by_staff(
            service=self.service(service_id), actor=self.actor, **data
        )
        return Response(_service_out(svc))


class RerunView(_ServiceOpView):
    @extend_schema(request=so.ReasonIn, responses=cs.ServiceOut)
    @idempotent
    def post(self, request: Request, service_id: int) -> Response:
        data = validated(so.ReasonIn, request.data)
        svc = services.rerun_failed_operation(
            service=self.service(service_id), actor=self.actor, **data
        )
        return Response(_service_out(svc))


class AttachView(_ServiceOpView):
    @extend_schema(request=so.AttachIn, responses=cs.ServiceOut)
    @idempotent
    def post(self, request: Request, service_id: int) -> Response:
        data = validated(so.AttachIn, request.data)
        instance_id = data.pop("module_instance_id")
        instance = (
            self.get_or_404(ModuleInstance.objects.all(), pk=instance_id) if instance_id else None
        )
        svc = services.attach_remote_object(
            service=self.service(service_id),
            module_instance=instance,
            actor=self.actor,
            **data,
        )
        return Response(_service_out(svc))


class DeleteView(_ServiceOpView):
    staff_perms = DELETE_SERVICE

    @extend_schema(request=so.StaffDeleteIn, responses=cs.ServiceOut)
    @idempotent
    def post(self, request: Request, service_id: int) -> Response:
        data = validated(so.StaffDeleteIn, request.data)
        svc = billing.delete_service_by_staff(
            service=self.service(service_id), actor=self.actor, **data
        )
        return Response(_service_out(svc))


#: URL slug of each service operation: ``POST /api/v1/staff/services/<id>/<slug>/``.
SERVICE_OPERATION_VIEWS: dict[str, type[_ServiceOpView]] = {
    "paid-until": PaidUntilView,
    "special-price": SpecialPriceView,
    "plan": PlanView,
    "renew": RenewView,
    "suspend": SuspendView,
    "resume": ResumeView,
    "rerun": RerunView,
    "attach": AttachView,
    "delete": DeleteView,
}


# -- clients, payers ---------------------------------------------------------------------------


class StaffClientsView(ClientListView):
    """List clients; register one (its owner login without a password until first login)."""

    @extend_schema(request=so.ClientCreateIn, responses={201: s.StaffClientOut})
    @idempotent
    def post(self, request: Request) -> Response:
        data = validated(so.ClientCreateIn, request.data)
        ids = data.pop("provider_ids")
        providers = list(Provider.objects.filter(pk__in=ids))
        if len(providers) != len(set(ids)):
            raise Http404
        client = accounts.create_client(providers=providers, actor=self.actor, **data)
        return Response(s.StaffClientOut(client).data, status=status.HTTP_201_CREATED)


class StaffClientView(ClientDetailView):
    """Read a client; change its profile (audited as ``client.updated``)."""

    @extend_schema(request=so.ClientPatchIn, responses=s.StaffClientOut)
    def patch(self, request: Request, client_id: int) -> Response:
        client = self.get_or_404(Client.objects.all(), pk=client_id)
        data = validated(so.ClientPatchIn, request.data)
        client = update_client_profile(client=client, actor=self.actor, **data)
        return Response(s.StaffClientOut(client).data)


class StaffPayerListView(StaffView, generics.ListAPIView):
    serializer_class = cs.PayerOut
    staff_perms = {"GET": ("accounts.view_payer",), "POST": ("accounts.add_payer",)}

    def get_queryset(self) -> QuerySet[Any]:
        client = self.get_or_404(Client.objects.all(), pk=self.kwargs["client_id"])
        return Payer.objects.filter(client=client).order_by("id")

    @extend_schema(request=cs.PayerIn, responses={201: cs.PayerOut})
    def post(self, request: Request, client_id: int) -> Response:
        client = self.get_or_404(Client.objects.all(), pk=client_id)
        data = validated(cs.PayerIn, request.data)
        payer = accounts.create_payer(client=client, actor=self.actor, **data)
        return Response(cs.PayerOut(payer).data, status=status.HTTP_201_CREATED)


class StaffPayerDetailView(StaffView):
    staff_perms = {"GET": ("accounts.view_payer",), "PATCH": ("accounts.change_payer",)}

    @extend_schema(responses=cs.PayerOut)
    def get(self, request: Request, payer_id: int) -> Response:
        return Response(cs.PayerOut(self.get_or_404(Payer.objects.all(), pk=payer_id)).data)

    @extend_schema(request=cs.PayerPatchIn, responses=cs.PayerOut)
    def patch(self, request: Request, payer_id: int) -> Response:
        payer = self.get_or_404(Payer.objects.all(), pk=payer_id)
        data = validated(cs.PayerPatchIn, request.data, partial=True)
        payer = accounts.update_payer(payer=payer, actor=self.actor, **data)
        return Response(cs.PayerOut(payer).data)


# -- balance adjustments -----------------------------------------------------------------------


class BalanceAdjustmentView(StaffView):
    """Credit or debit a client's balance with a provider in a currency (a ledger adjustment
    against the house account). Idempotent twice over: the API key replays the response, and
    the ledger key ``adjustment:api:<user>:<Idempotency-Key>`` posts once."""

    staff_perms = {"POST": ("ledger.adjust_balance",)}

    @extend_schema(request=so.BalanceAdjustmentIn, responses={201: so.BalanceAdjustmentOut})
    @idempotent
    def post(self, request: Request) -> Response:
        data = validated(so.BalanceAdjustmentIn, request.data)
        client = self.get_or_404(Client.objects.all(), pk=data["client_id"])
        provider = self.get_or_404(client.providers.all(), pk=data["provider_id"])
        if not Currency.objects.filter(code=data["currency"]).exists():
            raise ValidationError(f"unknown currency {data['currency']}", code="unknown_currency")
        account = get_or_create_account(
            kind=AccountKind.CLIENT_BALANCE,
            currency=data["currency"],
            client=client,
            provider=provider,
        )
        txn = adjust_client_balance(
            account=account,
            amount_minor=data["amount_minor"],
            direction=data["direction"],
            reason=data["reason"],
            nonce=f"api:{request.user.pk}:{request.headers[HEADER]}"[:200],
            actor=self.actor,
        )
        balance = LedgerAccount.objects.values_list("balance_minor", flat=True).get(pk=account.pk)
        body = {
            "transaction_id": txn.pk,
            "account_id": account.pk,
            "balance_minor": balance,
            "currency": account.currency,
        }
        return Response(so.BalanceAdjustmentOut(body).data, status=status.HTTP_201_CREATED)
