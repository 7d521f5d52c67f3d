"""Staff endpoints for orders and payments: lists, a bank transfer received, refunds.
Need a staff user, the ``staff:*`` scope and the Django model permissions in ``staff_perms``."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from billow.api.idempotency import HEADER, idempotent
from billow.api.serializers import commerce as s
from billow.api.views.base import validated
from billow.api.views.staff import StaffView
from billow.core.money import Money
from billow.orders.models import Order
from billow.payments.actions import confirm_manual_payment, refund_payment
from billow.payments.models import Payment


def _payments() -> QuerySet[Payment]:
    return Payment.objects.select_related("method").order_by("-id")


class StaffOrderListView(StaffView, generics.ListAPIView):
    serializer_class = s.StaffOrderOut
    staff_perms = {"GET": ("orders.view_order",)}

    @extend_schema(parameters=[s.StaffOrderFilter])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        f = validated(s.StaffOrderFilter, self.request.query_params)
        rows = Order.objects.prefetch_related("items").order_by("-id")
        if f.get("client_id"):
            rows = rows.filter(client_id=f["client_id"])
        if f.get("status"):
            rows = rows.filter(status=f["status"])
        return rows


class StaffPaymentListView(StaffView, generics.ListAPIView):
    serializer_class = s.StaffPaymentOut
    staff_perms = {"GET": ("payments.view_payment",)}

    @extend_schema(parameters=[s.StaffPaymentFilter])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        f = validated(s.StaffPaymentFilter, self.request.query_params)
        rows = _payments()
        for name in ("client_id", "status", "purpose"):
            if f.get(name):
                rows = rows.filter(**{name: f[name]})
        return rows


class MarkPaidView(StaffView):
    """A bank transfer arrived: mark the payment paid (credits the balance; idempotent). Only
    for gateways confirmed by hand, as the admin action."""

    staff_perms = {"POST": ("payments.change_payment",)}

    @extend_schema(request=None, responses=s.StaffPaymentOut)
    def post(self, request: Request, payment_id: int) -> Response:
        payment: Payment = self.get_or_404(_payments(), pk=payment_id)
        paid = confirm_manual_payment(payment=payment, actor=self.actor)
        return Response(s.StaffPaymentOut(paid).data)


class RefundView(StaffView):
    staff_perms = {"POST": ("payments.change_payment",)}

    @extend_schema(request=s.RefundIn, responses={201: s.RefundOut})
    @idempotent
    def post(self, request: Request, payment_id: int) -> Response:
        payment: Payment = self.get_or_404(_payments(), pk=payment_id)
        data = validated(s.RefundIn, request.data)
        amount = data.get("amount_minor")
        key = f"refund:{request.user.pk}:{request.headers[HEADER]}"
        refund = refund_payment(
            payment=payment,
            idempotency_key=f"api:{hashlib.sha256(key.encode()).hexdigest()[:40]}",
            amount=None if amount is None else Money(amount, payment.currency),
            destination=data["destination"],
            reason=data["reason"],
            actor=self.actor,
        )
        return Response(s.RefundOut(refund).data, status=status.HTTP_201_CREATED)
