"""Catalog reads. ``get_tariff_info`` fetches everything pricing needs in a fixed number of
queries (9, whatever the number of addons, points or enumeration values)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Count, Q, QuerySet

from billow.core.money import exponent
from billow.core.periods import Period

from .choices import TariffStatus, ValueType
from .errors import CatalogNotFoundError
from .models import (
    Addon,
    AddonPrice,
    AddonPricePoint,
    EnumerationValue,
    EnumerationValuePrice,
    ParameterValue,
    ProductTypeParameter,
    Tariff,
    TariffPrice,
)
from .pricing import (
    AddonInfo,
    EnumValueInfo,
    ParameterInfo,
    PeriodPrice,
    PricePointInfo,
    TariffInfo,
)

_MONTH = Period.MONTH_1.value


def get_tariff_info(tariff_id: int, currency: str) -> TariffInfo:
    """A frozen snapshot of tariff ``tariff_id`` priced in ``currency`` (9 queries)."""
    exponent(currency)
    tariff = Tariff.objects.select_related("product_type").filter(pk=tariff_id).first()
    if tariff is None:
        raise CatalogNotFoundError(f"No tariff {tariff_id}", code="tariff_not_found")
    prices = {
        p.period: PeriodPrice(p.amount_minor, p.setup_fee_minor)
        for p in TariffPrice.objects.filter(tariff_id=tariff_id, currency_id=currency)
    }
    return TariffInfo(
        id=tariff.pk,
        name=tariff.name,
        currency=currency,
        provider_id=tariff.provider_id,
        product_type=tariff.product_type.intname,
        status=tariff.status,
        billing_mode=tariff.billing_mode,
        prorata_day=tariff.prorata_day,
        trial_days=tariff.trial_days,
        order_limit=tariff.order_limit,
        prices=prices,
        addons=_addon_infos(tariff_id, currency),
        parameters=_parameter_infos(tariff.product_type_id),
    )


def _addon_infos(tariff_id: int, currency: str) -> tuple[AddonInfo, ...]:
    addons = list(Addon.objects.filter(tariff_id=tariff_id, is_active=True).order_by("sort", "id"))
    active_ids = {a.pk for a in addons}
    period_prices: dict[int, dict[str, int]] = defaultdict(dict)
    for ap in AddonPrice.objects.filter(addon__tariff_id=tariff_id, currency_id=currency):
        period_prices[ap.addon_id][ap.period] = ap.unit_price_minor
    points: dict[int, list[PricePointInfo]] = defaultdict(list)
    for pp in AddonPricePoint.objects.filter(
        addon__tariff_id=tariff_id, currency_id=currency
    ).order_by("from_value"):
        points[pp.addon_id].append(PricePointInfo(pp.from_value, pp.unit_price_minor))
    enum_values = _enum_values(addons, tariff_id, currency)
    by_id = {a.pk: a for a in addons}
    children: dict[int, list[str]] = defaultdict(list)
    for a in addons:
        if a.parent_id in active_ids:
            children[a.parent_id].append(a.intname)
    return tuple(
        _addon_info(a, currency, period_prices[a.pk], points[a.pk], enum_values, children, by_id)
        for a in addons
        if a.parent_id is None or a.parent_id in active_ids
    )


def _addon_info(
    a: Addon,
    currency: str,
    period_prices: dict[str, int],
    points: list[PricePointInfo],
    enum_values: dict[int, tuple[EnumValueInfo, ...]],
    children: dict[int, list[str]],
    by_id: dict[int, Addon],
) -> AddonInfo:
    same_currency = a.currency_id == currency
    monthly = period_prices.get(_MONTH)
    if monthly is None and (same_currency or a.unit_price_minor == 0):
        monthly = a.unit_price_minor
    return AddonInfo(
        intname=a.intname,
        name=a.name,
        unit=a.unit,
        value_type=a.value_type,
        billing_type=a.billing_type,
        included=a.included,
        min_value=a.min_value,
        max_value=a.max_value,
        step=a.step,
        default_value=a.default_value,
        edit_policy=a.edit_policy,
        monthly_unit_price_minor=monthly,
        period_prices=period_prices,
        points=tuple(points),
        enum_values=enum_values.get(a.pk, ()),
        children=tuple(children.get(a.pk, ())),
        parent=by_id[a.parent_id].intname if a.parent_id else None,
        overage_price_minor=a.overage_price_minor if same_currency else None,
        statistics_rating=a.statistics_rating,
        aggregation=a.aggregation,
    )


def _enum_values(
    addons: list[Addon], tariff_id: int, currency: str
) -> dict[int, tuple[EnumValueInfo, ...]]:
    """Active values of each enum addon's enumeration, with their prices (2 queries)."""
    enum_addons = [a for a in addons if a.value_type == ValueType.ENUM and a.enumeration_id]
    if not enum_addons:
        return {}
    values = list(
        EnumerationValue.objects.filter(
            enumeration_id__in={a.enumeration_id for a in enum_addons}, is_active=True
        ).order_by("sort", "id")
    )
    prices: dict[tuple[int, int], dict[str, int]] = defaultdict(dict)
    for ep in EnumerationValuePrice.objects.filter(
        addon__tariff_id=tariff_id, currency_id=currency
    ):
        prices[(ep.addon_id, ep.value_id)][ep.period] = ep.amount_minor
    return {
        a.pk: tuple(
            EnumValueInfo(v.intname, v.name, prices.get((a.pk, v.pk), {}))
            for v in values
            if v.enumeration_id == a.enumeration_id
        )
        for a in enum_addons
    }


def _parameter_infos(product_type_id: int) -> tuple[ParameterInfo, ...]:
    params = list(ProductTypeParameter.objects.filter(product_type_id=product_type_id))
    values: dict[int, list[str]] = defaultdict(list)
    names: dict[int, list[str]] = defaultdict(list)
    for pv in ParameterValue.objects.filter(
        parameter__product_type_id=product_type_id, is_active=True
    ).order_by("sort", "id"):
        values[pv.parameter_id].append(pv.intname)
        names[pv.parameter_id].append(pv.name)
    return tuple(
        ParameterInfo(p.intname, p.name, p.required, tuple(values[p.pk]), tuple(names[p.pk]))
        for p in params
    )


def list_orderable_tariffs(*, provider_id: int, group_ids: Iterable[int] = ()) -> QuerySet[Tariff]:
    """Active tariffs of a provider a client in ``group_ids`` may order.

    Hidden from any of the client's groups -> not listed; with a non-empty ``visible_to_groups``
    -> listed only when the client is in one of them.
    """
    groups = list(group_ids)
    return (
        Tariff.objects.filter(provider_id=provider_id, status=TariffStatus.ACTIVE)
        .exclude(hidden_from_groups__in=groups)
        .annotate(
            n_visible=Count("visible_to_groups", distinct=True),
            n_match=Count(
                "visible_to_groups", filter=Q(visible_to_groups__in=groups), distinct=True
            ),
        )
        .filter(Q(n_visible=0) | Q(n_match__gt=0))
        .order_by("sort", "name")
    )
