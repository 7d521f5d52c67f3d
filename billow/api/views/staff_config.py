"""Staff API of promotions and promo codes, tax rules and payment methods (issue 13.3).

Each write goes through its owner app's actions (``marketing.promos.staff``,
``invoicing.tax_rules``, ``payments.actions``); scope ``staff:write`` plus the Django model
permission; POST takes an ``Idempotency-Key``. Nothing is deleted: PATCH ``is_active: false``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from billow.accounts.models import Client, ClientGroup, Provider
from billow.api.idempotency import idempotent
from billow.api.serializers import staff_config as sc
from billow.api.views.base import validated
from billow.api.views.staff import StaffView
from billow.invoicing.models import TaxRule
from billow.invoicing.tax_rules import create_tax_rule, update_tax_rule
from billow.marketing.promos.actions import create_promo_code
from billow.marketing.promos.models import PromoCode, Promotion
from billow.marketing.promos.staff import create_promotion, update_promo_code, update_promotion
from billow.payments import actions as payments
from billow.payments.models import PaymentMethod


def _perms(model: str) -> dict[str, tuple[str, ...]]:
    app, name = model.split(".")
    return {
        "GET": (f"{app}.view_{name}",),
        "POST": (f"{app}.add_{name}",),
        "PATCH": (f"{app}.change_{name}",),
    }


PROVIDER_FILTER = OpenApiParameter("provider_id", int, required=False)


class _ProviderFiltered(StaffView, generics.ListAPIView):
    def filter_provider(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        provider_id = self.request.query_params.get("provider_id", "")
        return queryset.filter(provider_id=int(provider_id)) if provider_id.isdigit() else queryset

    def provider(self, provider_id: int) -> Provider:
        return self.get_or_404(Provider.objects.all(), pk=provider_id)


def _promotions() -> QuerySet[Promotion]:
    return Promotion.objects.prefetch_related("discounts").order_by("-id")


# -- promotions and codes ----------------------------------------------------------------------


class StaffPromotionListView(_ProviderFiltered):
    serializer_class = sc.StaffPromotionOut
    staff_perms = _perms("marketing.promotion")

    def get_queryset(self) -> QuerySet[Any]:
        return self.filter_provider(_promotions())

    @extend_schema(parameters=[PROVIDER_FILTER])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(request=sc.StaffPromotionIn, responses={201: sc.StaffPromotionOut})
    @idempotent
    def post(self, request: Request) -> Response:
        data = validated(sc.StaffPromotionIn, request.data)
        provider = self.provider(data.pop("provider_id"))
        promotion = create_promotion(provider=provider, actor=self.actor, **data)
        out = sc.StaffPromotionOut(_promotions().get(pk=promotion.pk))
        return Response(out.data, status=status.HTTP_201_CREATED)


class StaffPromotionDetailView(StaffView):
    staff_perms = _perms("marketing.promotion")

    @extend_schema(responses=sc.StaffPromotionOut)
    def get(self, request: Request, promotion_id: int) -> Response:
        return Response(sc.StaffPromotionOut(self.get_or_404(_promotions(), pk=promotion_id)).data)

    @extend_schema(request=sc.StaffPromotionPatchIn, responses=sc.StaffPromotionOut)
    def patch(self, request: Request, promotion_id: int) -> Response:
        promotion = self.get_or_404(_promotions(), pk=promotion_id)
        data = validated(sc.StaffPromotionPatchIn, request.data, partial=True)
        update_promotion(promotion=promotion, actor=self.actor, **data)
        return Response(sc.StaffPromotionOut(_promotions().get(pk=promotion_id)).data)


class StaffPromoCodeListView(StaffView, generics.ListAPIView):
    serializer_class = sc.StaffPromoCodeOut
    staff_perms = _perms("marketing.promocode")

    def get_queryset(self) -> QuerySet[Any]:
        promotion = self.get_or_404(Promotion.objects.all(), pk=self.kwargs["promotion_id"])
        return PromoCode.objects.filter(promotion=promotion).order_by("code")

    @extend_schema(request=sc.StaffPromoCodeIn, responses={201: sc.StaffPromoCodeOut})
    @idempotent
    def post(self, request: Request, promotion_id: int) -> Response:
        promotion = self.get_or_404(Promotion.objects.all(), pk=promotion_id)
        data = validated(sc.StaffPromoCodeIn, request.data)
        code = create_promo_code(promotion=promotion, actor=self.actor, **data)
        return Response(sc.StaffPromoCodeOut(code).data, status=status.HTTP_201_CREATED)


class StaffPromoCodeDetailView(StaffView):
    staff_perms = _perms("marketing.promocode")

    @extend_schema(responses=sc.StaffPromoCodeOut)
    def get(self, request: Request, code_id: int) -> Response:
        return Response(
            sc.StaffPromoCodeOut(self.get_or_404(PromoCode.objects.all(), pk=code_id)).data
        )

    @extend_schema(request=sc.StaffPromoCodePatchIn, responses=sc.StaffPromoCodeOut)
    def patch(self, request: Request, code_id: int) -> Response:
        code = self.get_or_404(PromoCode.objects.all(), pk=code_id)
        data = validated(sc.StaffPromoCodePatchIn, request.data, partial=True)
        code = update_promo_code(code=code, actor=self.actor, **data)
        return Response(sc.StaffPromoCodeOut(code).data)


# -- tax rules ---------------------------------------------------------------------------------


def _tax_rule_targets(view: StaffView, data: dict[str, Any]) -> dict[str, Any]:
    """``client_id`` / ``client_group_id`` in ``data`` replaced by the rows (404 if unknown)."""
    if "client_id" in data:
        client_id = data.pop("client_id")
        data["client"] = view.get_or_404(Client.objects.all(), pk=client_id) if client_id else None
    if "client_group_id" in data:
        group_id = data.pop("client_group_id")
        data["client_group"] = (
            view.get_or_404(ClientGroup.objects.all(), pk=group_id) if group_id else None
        )
    return data


class StaffTaxRuleListView(_ProviderFiltered):
    serializer_class = sc.StaffTaxRuleOut
    staff_perms = _perms("invoicing.taxrule")

    def get_queryset(self) -> QuerySet[Any]:
        return self.filter_provider(TaxRule.objects.order_by("provider_id", "country", "id"))

    @extend_schema(parameters=[PROVIDER_FILTER])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(request=sc.StaffTaxRuleIn, responses={201: sc.StaffTaxRuleOut})
    @idempotent
    def post(self, request: Request) -> Response:
        data = _tax_rule_targets(self, validated(sc.StaffTaxRuleIn, request.data))
        provider = self.provider(data.pop("provider_id"))
        rule = create_tax_rule(provider=provider, actor=self.actor, **data)
        return Response(sc.StaffTaxRuleOut(rule).data, status=status.HTTP_201_CREATED)


class StaffTaxRuleDetailView(StaffView):
    staff_perms = _perms("invoicing.taxrule")

    @extend_schema(responses=sc.StaffTaxRuleOut)
    def get(self, request: Request, rule_id: int) -> Response:
        return Response(sc.StaffTaxRuleOut(self.get_or_404(TaxRule.objects.all(), pk=rule_id)).data)

    @extend_schema(request=sc.StaffTaxRulePatchIn, responses=sc.StaffTaxRuleOut)
    def patch(self, request: Request, rule_id: int) -> Response:
        rule = self.get_or_404(TaxRule.objects.all(), pk=rule_id)
        data = _tax_rule_targets(
            self, validated(sc.StaffTaxRulePatchIn, request.data, partial=True)
        )
        rule = update_tax_rule(rule=rule, actor=self.actor, **data)
        return Response(sc.StaffTaxRuleOut(rule).data)


# -- payment methods ---------------------------------------------------------------------------


def _groups(ids: list[int] | None) -> list[ClientGroup] | None:
    if ids is None:
        return None
    groups = list(ClientGroup.objects.filter(pk__in=ids))
    if len(groups) != len(set(ids)):
        raise Http404
    return groups


def _methods() -> QuerySet[PaymentMethod]:
    return PaymentMethod.objects.prefetch_related("client_groups").order_by("sort", "id")


class StaffPaymentMethodListView(_ProviderFiltered):
    serializer_class = sc.StaffPaymentMethodOut
    staff_perms = _perms("payments.paymentmethod")

    def get_queryset(self) -> QuerySet[Any]:
        return self.filter_provider(_methods())

    @extend_schema(parameters=[PROVIDER_FILTER])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(request=sc.StaffPaymentMethodIn, responses={201: sc.StaffPaymentMethodOut})
    @idempotent
    def post(self, request: Request) -> Response:
        data = validated(sc.StaffPaymentMethodIn, request.data)
        provider = self.provider(data.pop("provider_id"))
        groups = _groups(data.pop("client_group_ids", None)) or []
        method = payments.create_payment_method(
            provider=provider, client_groups=groups, actor=self.actor, **data
        )
        out = sc.StaffPaymentMethodOut(_methods().get(pk=method.pk))
        return Response(out.data, status=status.HTTP_201_CREATED)


class StaffPaymentMethodDetailView(StaffView):
    staff_perms = _perms("payments.paymentmethod")

    @extend_schema(responses=sc.StaffPaymentMethodOut)
    def get(self, request: Request, method_id: int) -> Response:
        method = self.get_or_404(_methods(), pk=method_id)
        return Response(sc.StaffPaymentMethodOut(method).data)

    @extend_schema(request=sc.StaffPaymentMethodPatchIn, responses=sc.StaffPaymentMethodOut)
    def patch(self, request: Request, method_id: int) -> Response:
        method = self.get_or_404(PaymentMethod.objects.all(), pk=method_id)
        data = validated(sc.StaffPaymentMethodPatchIn, request.data, partial=True)
        groups = _groups(data.pop("client_group_ids", None))
        payments.update_payment_method(
            method=method, client_groups=groups, actor=self.actor, **data
        )
        return Response(sc.StaffPaymentMethodOut(_methods().get(pk=method_id)).data)
