"""Catalog writes. Each action validates everything first (``validators``), then writes inside
one transaction; a refusal raises a ``BillowError`` with a stable code and writes nothing.

``set_*`` actions upsert: the same key (e.g. tariff + period + currency) updates the row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from django.db import IntegrityError, models, transaction

from billow.core.errors import ValidationError
from billow.core.journal import record_change, snapshot
from billow.core.periods import BillingMode

from . import validators as v
from .choices import (
    Aggregation,
    DeletionPolicy,
    DowngradePolicy,
    EditPolicy,
    StatisticsRating,
    TariffStatus,
    ValueType,
)
from .errors import CatalogConflictError, CatalogValidationError
from .models import (
    Addon,
    AddonPrice,
    AddonPricePoint,
    Currency,
    Enumeration,
    EnumerationValue,
    EnumerationValuePrice,
    ExchangeRate,
    ParameterValue,
    ProductType,
    ProductTypeParameter,
    Tariff,
    TariffPrice,
)

M = TypeVar("M", bound=models.Model)
Actor = Any  # the core actor type; unused until audit events land

#: Tariff fields ``update_tariff`` may change (provider and product type are fixed).
TARIFF_MUTABLE = frozenset(
    {
        "name",
        "status",
        "billing_mode",
        "prorata_day",
        "order_limit",
        "trial_days",
        "sort",
        "description",
    }
)


def _save_new(obj: M, what: str) -> M:
    """Insert ``obj``; a unique-constraint clash becomes ``duplicate`` (nothing written)."""
    try:
        with transaction.atomic():
            obj.save(force_insert=True)
    except IntegrityError as exc:
        raise CatalogConflictError(f"{what} already exists", what=what) from exc
    return obj


def _enabled_currency(code: str) -> str:
    """A currency known to core *and* enabled in the catalog."""
    v.validate_currency_code(code)
    if not Currency.objects.filter(code=code, is_active=True).exists():
        raise ValidationError(
            f"Currency {code} is not enabled in the catalog", code="unknown_currency"
        )
    return code


# -- currencies -------------------------------------------------------------------------------


def create_currency(
    *, code: str, name: str, symbol: str = "", is_active: bool = True, actor: Actor = None
) -> Currency:
    """Enable a currency from core's ISO 4217 table."""
    v.validate_currency_code(code)
    with transaction.atomic():
        return _save_new(
            Currency(code=code, name=name, symbol=symbol, is_active=is_active), "currency"
        )


def set_exchange_rate(
    *,
    base: str,
    quote: str,
    valid_from: date,
    rate: Decimal | str | int,
    client_group_id: int | None = None,
    actor: Actor = None,
) -> ExchangeRate:
    """Set ``1 base = rate quote`` from ``valid_from`` (general, or for one client group)."""
    _enabled_currency(base)
    _enabled_currency(quote)
    if base == quote:
        raise CatalogValidationError("A rate needs two currencies", code="same_currency_rate")
    dec = v.validate_decimal(rate, field="rate", positive=True)
    with transaction.atomic():
        obj, _ = ExchangeRate.objects.update_or_create(
            base_id=base,
            quote_id=quote,
            valid_from=valid_from,
            client_group_id=client_group_id,
            defaults={"rate": dec},
        )
        return obj


# -- product types ----------------------------------------------------------------------------


def create_product_type(
    *,
    name: str,
    intname: str,
    deletion_policy: str = DeletionPolicy.AFTER_AUTO_DELETE,
    auto_delete_days: int = 14,
    no_suspend_weekends: bool = False,
    split_expense_monthly: bool = False,
    downgrade_policy: str = DowngradePolicy.PERIOD_END,
    actor: Actor = None,
) -> ProductType:
    """A product type; ``intname`` is unique and selects processing modules."""
    v.validate_intname(intname)
    v.validate_choice(deletion_policy, DeletionPolicy, field="deletion_policy")
    v.validate_choice(downgrade_policy, DowngradePolicy, field="downgrade_policy")
    v.validate_non_negative_int(auto_delete_days, field="auto_delete_days")
    obj = ProductType(
        name=name,
        intname=intname,
        deletion_policy=deletion_policy,
        auto_delete_days=auto_delete_days,
        no_suspend_weekends=no_suspend_weekends,
        split_expense_monthly=split_expense_monthly,
        downgrade_policy=downgrade_policy,
    )
    with transaction.atomic():
        return _save_new(obj, "product type")


def add_product_type_parameter(
    *,
    product_type: ProductType,
    name: str,
    intname: str,
    required: bool = True,
    values: Sequence[tuple[str, str]] = (),
    actor: Actor = None,
) -> ProductTypeParameter:
    """A parameter (e.g. "os") with its values as (intname, name) pairs, in this order."""
    v.validate_intname(intname)
    if len({iv for iv, _ in values}) != len(values):
        raise CatalogConflictError("Duplicate parameter value", what="parameter value")
    with transaction.atomic():
        param = _save_new(
            ProductTypeParameter(
                product_type=product_type, name=name, intname=intname, required=required
            ),
            "parameter",
        )
        ParameterValue.objects.bulk_create(
            ParameterValue(parameter=param, intname=iv, name=nm, sort=i)
            for i, (iv, nm) in enumerate(values)
        )
        return param


def sync_parameter_values(
    *,
    parameter: ProductTypeParameter,
    values: Sequence[tuple[str, str]],
    deactivate_missing: bool = True,
    actor: Actor = None,
) -> dict[str, int]:
    """Make ``parameter``'s values those of a panel (e.g. the OS list of VMmanager), given as
    (intname, name) pairs: new ones are added at the end, renamed ones renamed, ones the panel
    no longer offers deactivated (never deleted: services point at them) and returning ones
    reactivated. Idempotent: a second run with the same list changes nothing. Returns the
    counts (``added``, ``renamed``, ``reactivated``, ``deactivated``, ``unchanged``).
    Refuses ``invalid_parameter_value`` (empty or over 100 characters) and duplicates, writing
    nothing."""
    wanted: dict[str, str] = {}
    for intname, name in values:
        if not intname or len(intname) > 100 or not name or len(name) > 100:
            raise CatalogValidationError(
                f"Parameter value {intname!r} is not valid", code="invalid_parameter_value"
            )
        if intname in wanted:
            raise CatalogConflictError("Duplicate parameter value", what="parameter value")
        wanted[intname] = name
    counts = dict.fromkeys(("added", "renamed", "reactivated", "deactivated", "unchanged"), 0)
    with transaction.atomic():
        locked = ProductTypeParameter.objects.select_for_update().get(pk=parameter.pk)
        existing = {pv.intname: pv for pv in locked.values.all()}
        next_sort = max((pv.sort for pv in existing.values()), default=-1) + 1
        for intname, name in wanted.items():
            pv = existing.get(intname)
            if pv is None:
                ParameterValue.objects.create(
                    parameter=locked, intname=intname, name=name, sort=next_sort
                )
                next_sort += 1
                counts["added"] += 1
                continue
            changed = []
            if pv.name != name:
                pv.name = name
                changed.append("name")
                counts["renamed"] += 1
            if not pv.is_active:
                pv.is_active = True
                changed.append("is_active")
                counts["reactivated"] += 1
            if changed:
                pv.save(update_fields=changed)
            else:
                counts["unchanged"] += 1
        if deactivate_missing:
            for intname, pv in existing.items():
                if intname not in wanted and pv.is_active:
                    pv.is_active = False
                    pv.save(update_fields=["is_active"])  # post_save bumps the catalog cache
                    counts["deactivated"] += 1
    return counts


# -- tariffs ----------------------------------------------------------------------------------


def _check_tariff_fields(fields: dict[str, Any]) -> None:
    if "status" in fields:
        v.validate_choice(fields["status"], TariffStatus, field="status")
    if "billing_mode" in fields and fields["billing_mode"] not in {m.value for m in BillingMode}:
        raise CatalogValidationError("Unknown billing mode", code="invalid_choice")
    if "prorata_day" in fields:
        v.validate_prorata_day(fields["prorata_day"])
    if fields.get("order_limit") is not None:
        v.validate_non_negative_int(fields["order_limit"], field="order_limit")
    if "trial_days" in fields:
        v.validate_non_negative_int(fields["trial_days"], field="trial_days")


def create_tariff(
    *,
    provider_id: int,
    product_type: ProductType,
    name: str,
    status: str = TariffStatus.ACTIVE,
    billing_mode: str = BillingMode.ANNIVERSARY.value,
    prorata_day: int = 1,
    order_limit: int | None = None,
    trial_days: int = 0,
    visible_to_groups: Sequence[int] = (),
    hidden_from_groups: Sequence[int] = (),
    sort: int = 0,
    description: str = "",
    actor: Actor = None,
) -> Tariff:
    """A tariff of ``provider_id`` for ``product_type`` (both fixed from now on)."""
    fields: dict[str, Any] = {
        "name": name,
        "status": status,
        "billing_mode": billing_mode,
        "prorata_day": prorata_day,
        "order_limit": order_limit,
        "trial_days": trial_days,
        "sort": sort,
        "description": description,
    }
    _check_tariff_fields(fields)
    v.validate_group_visibility(visible_to_groups, hidden_from_groups)
    with transaction.atomic():
        tariff = _save_new(
            Tariff(provider_id=provider_id, product_type=product_type, **fields), "tariff"
        )
        tariff.visible_to_groups.set(visible_to_groups)
        tariff.hidden_from_groups.set(hidden_from_groups)
        return tariff


def update_tariff(*, tariff: Tariff, actor: Actor = None, **changes: Any) -> Tariff:
    """Change mutable tariff fields; ``provider``/``product_type`` -> ``tariff_field_immutable``."""
    fixed = set(changes) - TARIFF_MUTABLE
    if fixed:
        raise CatalogValidationError(
            f"Cannot change {sorted(fixed)} of a tariff", code="tariff_field_immutable"
        )
    _check_tariff_fields(changes)
    with transaction.atomic():
        before = snapshot(tariff)
        for key, value in changes.items():
            setattr(tariff, key, value)
        tariff.save(update_fields=list(changes))
        record_change(actor=actor, obj=tariff, before=before, after=snapshot(tariff))
        return tariff


def set_tariff_visibility(
    *,
    tariff: Tariff,
    visible_to_groups: Sequence[int],
    hidden_from_groups: Sequence[int],
    actor: Actor = None,
) -> Tariff:
    """Replace the tariff's allowed and forbidden client groups."""
    v.validate_group_visibility(visible_to_groups, hidden_from_groups)
    with transaction.atomic():
        tariff.visible_to_groups.set(visible_to_groups)
        tariff.hidden_from_groups.set(hidden_from_groups)
        return tariff


def set_tariff_price(
    *,
    tariff: Tariff,
    period: str,
    currency: str,
    amount_minor: int,
    setup_fee_minor: int = 0,
    actor: Actor = None,
) -> TariffPrice:
    """Offer ``tariff`` for ``period`` in ``currency`` at ``amount_minor`` (+ one-off setup fee)."""
    per = v.validate_period(period)
    v.validate_price(amount_minor, field="amount_minor")
    v.validate_price(setup_fee_minor, field="setup_fee_minor")
    _enabled_currency(currency)
    with transaction.atomic():
        key: dict[str, Any] = {"tariff": tariff, "period": per.value, "currency_id": currency}
        old = TariffPrice.objects.select_for_update().filter(**key).first()
        before = None if old is None else snapshot(old)
        obj, _ = TariffPrice.objects.update_or_create(
            **key, defaults={"amount_minor": amount_minor, "setup_fee_minor": setup_fee_minor}
        )
        record_change(actor=actor, obj=obj, before=before, after=snapshot(obj), parent=tariff)
        return obj


# -- addons -----------------------------------------------------------------------------------


def create_addon(
    *,
    tariff: Tariff,
    name: str,
    intname: str,
    value_type: str,
    billing_type: str,
    currency: str,
    unit: str = "",
    unit_price_minor: int = 0,
    included: int = 0,
    min_value: int = 0,
    max_value: int | None = None,
    step: int = 1,
    default_value: int | None = None,
    edit_policy: str = EditPolicy.ANY,
    enumeration: Enumeration | None = None,
    parent: Addon | None = None,
    overage_price_minor: Decimal | str | int = 0,
    statistics_rating: str = StatisticsRating.PER_MONTH,
    aggregation: str = Aggregation.SUM,
    sort: int = 0,
    actor: Actor = None,
) -> Addon:
    """An addon of ``tariff``. ``unit_price_minor`` is per unit per month in ``currency``;
    ``overage_price_minor`` is per ``unit`` of usage (may be fractional minor units).
    ``default_value`` defaults to ``max(min_value, included)`` for integer addons."""
    v.validate_intname(intname)
    if parent is not None and parent.tariff_id != tariff.pk:
        raise CatalogValidationError("Parent is on another tariff", code="invalid_parent")
    v.validate_addon_shape(
        value_type=value_type,
        billing_type=billing_type,
        has_enumeration=enumeration is not None,
        parent_billing_type=parent.billing_type if parent else None,
    )
    if parent is not None and value_type != ValueType.BOOL:
        raise CatalogValidationError("Client-choice options are boolean", code="invalid_parent")
    v.validate_choice(edit_policy, EditPolicy, field="edit_policy")
    v.validate_choice(statistics_rating, StatisticsRating, field="statistics_rating")
    v.validate_choice(aggregation, Aggregation, field="aggregation")
    if default_value is None:
        default_value = max(min_value, included) if value_type == ValueType.INT else included
    if value_type == ValueType.INT:
        v.validate_scale(
            min_value=min_value,
            max_value=max_value,
            step=step,
            included=included,
            default_value=default_value,
        )
    elif value_type == ValueType.BOOL:
        v.validate_bool_scale(included=included, default_value=default_value)
    v.validate_price(unit_price_minor, field="unit_price_minor")
    overage = v.validate_decimal(overage_price_minor, field="overage_price_minor")
    _enabled_currency(currency)
    addon = Addon(
        tariff=tariff,
        parent=parent,
        name=name,
        intname=intname,
        unit=unit,
        value_type=value_type,
        billing_type=billing_type,
        enumeration=enumeration,
        included=included,
        min_value=min_value,
        max_value=max_value,
        step=step,
        default_value=default_value,
        currency_id=currency,
        unit_price_minor=unit_price_minor,
        edit_policy=edit_policy,
        overage_price_minor=overage,
        statistics_rating=statistics_rating,
        aggregation=aggregation,
        sort=sort,
    )
    with transaction.atomic():
        return _save_new(addon, "addon")


def set_addon_price(
    *, addon: Addon, period: str, currency: str, unit_price_minor: int, actor: Actor = None
) -> AddonPrice:
    """The unit price of ``addon`` for ``period`` in ``currency`` (replaces monthly x months)."""
    per = v.validate_period(period)
    v.validate_price(unit_price_minor, field="unit_price_minor")
    _enabled_currency(currency)
    with transaction.atomic():
        key: dict[str, Any] = {"addon": addon, "period": per.value, "currency_id": currency}
        old = AddonPrice.objects.select_for_update().filter(**key).first()
        before = None if old is None else snapshot(old)
        obj, _ = AddonPrice.objects.update_or_create(
            **key, defaults={"unit_price_minor": unit_price_minor}
        )
        record_change(actor=actor, obj=obj, before=before, after=snapshot(obj), parent=addon)
        return obj


def set_addon_price_point(
    *, addon: Addon, currency: str, from_value: int, unit_price_minor: int, actor: Actor = None
) -> AddonPricePoint:
    """Units numbered ``from_value`` and up cost ``unit_price_minor`` per month (until the next
    point)."""
    v.validate_price(unit_price_minor, field="unit_price_minor")
    v.validate_price_point(
        value_type=addon.value_type, from_value=from_value, max_value=addon.max_value
    )
    _enabled_currency(currency)
    with transaction.atomic():
        obj, _ = AddonPricePoint.objects.update_or_create(
            addon=addon,
            currency_id=currency,
            from_value=from_value,
            defaults={"unit_price_minor": unit_price_minor},
        )
        return obj


# -- enumerations -----------------------------------------------------------------------------


def create_enumeration(
    *, name: str, intname: str, values: Sequence[tuple[str, str]] = (), actor: Actor = None
) -> Enumeration:
    """An enumeration with values as (intname, name) pairs, sorted in the given order."""
    v.validate_intname(intname)
    if len({iv for iv, _ in values}) != len(values):
        raise CatalogConflictError("Duplicate enumeration value", what="enumeration value")
    with transaction.atomic():
        enum = _save_new(Enumeration(name=name, intname=intname), "enumeration")
        EnumerationValue.objects.bulk_create(
            EnumerationValue(enumeration=enum, intname=iv, name=nm, sort=i)
            for i, (iv, nm) in enumerate(values)
        )
        return enum


def set_enumeration_value_price(
    *,
    addon: Addon,
    value: EnumerationValue,
    period: str,
    currency: str,
    amount_minor: int,
    actor: Actor = None,
) -> EnumerationValuePrice:
    """What choosing ``value`` for ``addon`` costs per ``period`` in ``currency``."""
    per = v.validate_period(period)
    v.validate_price(amount_minor, field="amount_minor")
    v.validate_enum_value_of_addon(
        addon_enumeration_id=addon.enumeration_id, value_enumeration_id=value.enumeration_id
    )
    _enabled_currency(currency)
    with transaction.atomic():
        obj, _ = EnumerationValuePrice.objects.update_or_create(
            addon=addon,
            value=value,
            period=per.value,
            currency_id=currency,
            defaults={"amount_minor": amount_minor},
        )
        return obj
