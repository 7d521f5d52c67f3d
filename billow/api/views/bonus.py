"""Bonus program endpoints. Client (scope ``billing``): the programs and accounts, consent,
history, "you will earn N" for a top-up or a renewal (orders show theirs on the quote:
``earn_points``, and pay with ``bonus_points``). Staff (scope ``staff``): programs, rules,
accounts, history, switching a program on, manual accrual / deduction (idempotent)."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from billow.accounts.models import Client
from billow.accounts.selectors import get_client_scope
from billow.api.idempotency import HEADER, idempotent
from billow.api.serializers import bonus as s
from billow.api.views.base import ClientView, validated
from billow.api.views.staff import StaffView
from billow.billing.bonus import estimate_renewal_points
from billow.core import clock
from billow.core.money import Money
from billow.marketing.bonus import actions as bonus
from billow.marketing.bonus.models import (
    BonusAccount,
    BonusMovement,
    BonusProgram,
    BonusRule,
)
from billow.marketing.bonus.selectors import (
    get_account_status,
    list_client_provider_ids_with_program,
)
from billow.payments.bonus import estimate_topup_points
from billow.services.models import Service


def model_perms(model: str) -> dict[str, tuple[str, ...]]:
    """Django model permissions per method: view to read, add to create."""
    app, name = model.split(".")
    return {"GET": (f"{app}.view_{name}",), "POST": (f"{app}.add_{name}",)}


def _nonce(request: Request) -> str:
    raw = f"{request.user.pk}:{request.headers.get(HEADER, '')}"
    return f"api:{hashlib.sha256(raw.encode()).hexdigest()[:40]}"


class BonusMixin(ClientView):
    scope = "billing"

    @property
    def client(self) -> Client:
        return Client.objects.get(pk=self.client_id)

    def provider_ids(self) -> list[int]:
        return sorted(
            list_client_provider_ids_with_program(get_client_scope(self.client).provider_ids)
        )


class BonusAccountListView(BonusMixin):
    """The client's bonus programs (one per provider with a program switched on)."""

    pagination_class = None

    @extend_schema(responses=s.AccountStatusOut(many=True), operation_id="bonus_accounts_list")
    def get(self, request: Request) -> Response:
        today = clock.today()
        rows = [get_account_status(pid, self.client_id, today) for pid in self.provider_ids()]
        return Response(s.AccountStatusOut([r for r in rows if r is not None], many=True).data)


class BonusConsentView(BonusMixin):
    """Accept the program's current consent text (its version, the time and the caller's IP
    are kept); the welcome bonus is credited now if it waited for it."""

    @extend_schema(request=s.ProviderIn, responses={201: s.AccountStatusOut})
    @idempotent
    def post(self, request: Request) -> Response:
        data = validated(s.ProviderIn, request.data)
        if data["provider_id"] not in self.provider_ids():
            raise Http404
        bonus.give_bonus_consent(
            client=self.client,
            provider_id=data["provider_id"],
            ip=request.META.get("REMOTE_ADDR") or None,
            actor=self.actor,
        )
        row = get_account_status(data["provider_id"], self.client_id, clock.today())
        return Response(s.AccountStatusOut(row).data, status=status.HTTP_201_CREATED)


class BonusHistoryView(BonusMixin, generics.ListAPIView):
    """Accrued, spent, expired and returned points, newest first, each with its source."""

    serializer_class = s.MovementOut

    @extend_schema(parameters=[s.HistoryFilter])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        f = validated(s.HistoryFilter, self.request.query_params)
        rows = BonusMovement.objects.filter(account__client_id=self.client_id).select_related(
            "account"
        )
        if f.get("provider_id"):
            rows = rows.filter(account__provider_id=f["provider_id"])
        if f.get("kind"):
            rows = rows.filter(kind=f["kind"])
        return rows.order_by("-created_at", "-id")


class BonusEstimateView(BonusMixin):
    """What a top-up of an amount, or the next renewal of a service, will earn."""

    scope_level = "read"

    @extend_schema(parameters=[s.EstimateQuery], responses=s.EstimateOut)
    def get(self, request: Request) -> Response:
        q = validated(s.EstimateQuery, request.query_params)
        if q["trigger"] == "topup":
            if q["provider_id"] not in get_client_scope(self.client).provider_ids:
                raise Http404
            points = estimate_topup_points(
                client=self.client,
                provider_id=q["provider_id"],
                amount=Money(q["amount_minor"], q["currency"]),
            )
        else:
            service = self.get_or_404(
                Service.objects.select_related("client"),
                pk=q["service_id"],
                client_id=self.client_id,
            )
            points = estimate_renewal_points(service)
        return Response(s.EstimateOut({"earn_points": points}).data)


# --- staff ------------------------------------------------------------------------------------


class StaffProgramListView(StaffView, generics.ListAPIView):
    serializer_class = s.BonusProgramOut
    staff_perms = model_perms("marketing.bonusprogram")
    http_method_names = ["get"]

    def get_queryset(self) -> QuerySet[Any]:
        return BonusProgram.objects.prefetch_related("values").order_by("id")


class StaffProgramEnableView(StaffView):
    """Switch a program on: every client of the provider gets a bonus account (and, by the
    program's terms, the welcome bonus)."""

    staff_perms = {"POST": ("marketing.change_bonusprogram",)}

    @extend_schema(request=None, responses=s.BonusProgramOut)
    def post(self, request: Request, program_id: int) -> Response:
        program = self.get_or_404(BonusProgram.objects.all(), pk=program_id)
        bonus.enable_bonus_program(program=program, actor=self.actor)
        program.refresh_from_db()
        return Response(s.BonusProgramOut(program).data)


class StaffRuleListView(StaffView, generics.ListAPIView):
    serializer_class = s.BonusRuleOut
    staff_perms = model_perms("marketing.bonusrule")

    def get_queryset(self) -> QuerySet[Any]:
        program = self.get_or_404(BonusProgram.objects.all(), pk=self.kwargs["program_id"])
        return BonusRule.objects.filter(program_id=program.pk).order_by("priority", "id")

    @extend_schema(request=s.BonusRuleIn, responses={201: s.BonusRuleOut})
    def post(self, request: Request, program_id: int) -> Response:
        program = self.get_or_404(BonusProgram.objects.all(), pk=program_id)
        data = validated(s.BonusRuleIn, request.data)
        links = {
            "product_types": data.pop("product_type_ids"),
            "tariff_groups": data.pop("tariff_group_ids"),
            "tariffs": data.pop("tariff_ids"),
            "client_groups": data.pop("client_group_ids"),
        }
        rule = bonus.create_bonus_rule(program=program, links=links, actor=self.actor, **data)
        return Response(s.BonusRuleOut(rule).data, status=status.HTTP_201_CREATED)


class StaffAccountListView(StaffView, generics.ListAPIView):
    serializer_class = s.StaffAccountOut
    staff_perms = model_perms("marketing.bonusaccount")
    http_method_names = ["get"]

    @extend_schema(parameters=[s.StaffAccountFilter])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        f = validated(s.StaffAccountFilter, self.request.query_params)
        rows = BonusAccount.objects.order_by("id")
        for name in ("client_id", "provider_id"):
            if f.get(name):
                rows = rows.filter(**{name: f[name]})
        return rows


class StaffAccountHistoryView(StaffView, generics.ListAPIView):
    serializer_class = s.StaffMovementOut
    staff_perms = {"GET": ("marketing.view_bonusaccount",)}

    def get_queryset(self) -> QuerySet[Any]:
        account = self.get_or_404(BonusAccount.objects.all(), pk=self.kwargs["bonus_account_id"])
        return (
            BonusMovement.objects.filter(account_id=account.pk)
            .select_related("account")
            .order_by("-created_at", "-id")
        )


class StaffAccountAdjustView(StaffView):
    """Accrue or deduct points by hand with a reason (once per ``Idempotency-Key``)."""

    staff_perms = {"POST": ("marketing.adjust_points",)}

    @extend_schema(request=s.AdjustIn, responses={201: s.StaffMovementOut})
    @idempotent
    def post(self, request: Request, bonus_account_id: int) -> Response:
        account = self.get_or_404(BonusAccount.objects.all(), pk=bonus_account_id)
        data = validated(s.AdjustIn, request.data)
        move = bonus.adjust_bonus_points(
            account=account, nonce=_nonce(request), actor=self.actor, **data
        )
        return Response(s.StaffMovementOut(move).data, status=status.HTTP_201_CREATED)
