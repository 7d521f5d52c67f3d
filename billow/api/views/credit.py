"""Client endpoints for credit: the overdue state and recommended amount to pay, and the
promised payment (its offer, and taking it)."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from billow.accounts.models import Client, Provider
from billow.api.idempotency import idempotent
from billow.api.serializers import credit as s
from billow.api.views.base import ClientView, validated
from billow.billing import actions as billing
from billow.billing.auto_invoice import recommended_payments
from billow.billing.terms import (
    get_overdue,
    get_promise_offer,
    list_client_provider_ids,
    list_credit_currencies,
)
from billow.core.clock import today


class CreditView(ClientView):
    scope = "billing"

    @extend_schema(responses=s.CreditOut, operation_id="credit_retrieve")
    def get(self, request: Request) -> Response:
        day = today()
        overdue = []
        for currency in list_credit_currencies(self.client_id):
            state = get_overdue(self.client_id, currency, day)
            overdue.append(
                {
                    "currency": currency,
                    "state": state.state.value,
                    "respite_ends_on": state.respite_ends_on,
                    "blocks_on": state.blocks_on,
                }
            )
        recommended = recommended_payments(self.client_id, day=day)
        return Response(s.CreditOut({"overdue": overdue, "recommended": recommended}).data)


class PromisedPaymentView(ClientView):
    """GET: the offer for ``provider_id`` and ``currency``; POST: take it (refusals 400 with
    the offer's code, nothing written)."""

    scope = "billing"

    def _provider(self, provider_id: int) -> Provider:
        if provider_id not in list_client_provider_ids(self.client_id):
            raise Http404
        return Provider.objects.get(pk=provider_id)

    @extend_schema(parameters=[s.PromiseQuery], responses=s.PromiseOfferOut)
    def get(self, request: Request) -> Response:
        q = validated(s.PromiseQuery, request.query_params)
        provider = self._provider(q["provider_id"])
        offer = get_promise_offer(self.client_id, provider.pk, q["currency"], today())
        body: dict[str, Any] = {
            "available": offer.available,
            "code": offer.refusal,
            "amount_minor": offer.amount_minor,
            "currency": offer.currency,
            "days": offer.days,
            "available_on": offer.available_on,
            "active": offer.active,
        }
        return Response(s.PromiseOfferOut(body).data)

    @extend_schema(request=s.PromiseQuery, responses={201: s.PromiseOut})
    @idempotent
    def post(self, request: Request) -> Response:
        q = validated(s.PromiseQuery, request.data)
        provider = self._provider(q["provider_id"])
        promise = billing.take_promised_payment(
            client=Client.objects.get(pk=self.client_id),
            provider=provider,
            currency=q["currency"],
            actor=self.actor,
        )
        return Response(s.PromiseOut(promise).data, status=status.HTTP_201_CREATED)
