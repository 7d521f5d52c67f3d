"""Pure tariff pricing: a ``TariffInfo`` (built by ``selectors.get_tariff_info``) plus a period and
addon values in, priced lines out. No database access; the quote (orders app) builds on it.

Rules (each line carries a ``reason`` that says which rule priced it):

- **Tariff**: the ``TariffPrice`` of the period in the currency; none -> ``period_not_offered``.
- **Setup fee**: one ``setup`` line when the fee is non-zero and ``include_setup`` is true.
- **Addon unit price for a period**: the ``AddonPrice`` of that period if there is one; otherwise
  the monthly unit price x the period's months (3 months = 3 x monthly). Trial periods without an
  ``AddonPrice`` cost 0; day/hour periods without one are refused (``addon_period_not_priced``).
- **Integer on-order addons**: the value must lie in min..max and be min + k x step. The billed
  quantity is ``value - included`` (never below 0); the price is per unit, not per step.
- **Special price points** split the scale into sectors: a point ``from_value=N`` prices every
  unit numbered N and above (up to the next point) at its monthly price x months. Unit number
  ``u`` is the u-th unit of the value, so with 2 included and value 8, units 3..8 are billed,
  each at the price of its own sector (graduated, like tax brackets). Units below the first point
  use the addon's unit price for the period (its ``AddonPrice`` or monthly x months). One line
  per sector touched. Points do not apply to day/hour/trial periods (flat unit price there).
- **Boolean addons** bill one unit when on and not included.
- **Enum addons** bill the chosen value's ``EnumerationValuePrice`` for the period, else its
  monthly price x months; a value with no price at all is free. Default: the first active value.
- **Client-choice addons**: the value is a child's internal name; the chosen child bills one unit
  of its unit price (nothing if the child is included). Default: the first child.
- **Included addons** cost 0 and cannot be set to anything but their included value.
- **Statistics addons** are not priced up front: a zero line says "billed by usage" and states
  the included amount and overage price; passing a value for them is refused.

Every top-level addon yields at least one line (possibly zero), so the quote shows the whole
configuration. No line is negative and ``amount == unit_price x quantity`` on every line.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from billow.core.money import Money
from billow.core.periods import Period

from .choices import BillingType, EditPolicy, ValueType
from .errors import PricingError

AddonValue = int | bool | str


class LineKind(StrEnum):
    TARIFF = "tariff"
    SETUP = "setup"
    ADDON = "addon"


@dataclass(frozen=True, slots=True)
class PeriodPrice:
    amount_minor: int
    setup_fee_minor: int


@dataclass(frozen=True, slots=True)
class PricePointInfo:
    from_value: int
    unit_price_minor: int  # per unit per month


@dataclass(frozen=True, slots=True)
class EnumValueInfo:
    intname: str
    name: str
    prices: Mapping[str, int] = field(default_factory=dict)  # period -> amount_minor


@dataclass(frozen=True, slots=True)
class AddonInfo:
    """An active addon as seen in one currency. ``monthly_unit_price_minor`` is None when the
    addon has no unit price in that currency."""

    intname: str
    name: str
    unit: str
    value_type: str
    billing_type: str
    included: int = 0
    min_value: int = 0
    max_value: int | None = None
    step: int = 1
    default_value: int = 0
    edit_policy: str = EditPolicy.ANY
    monthly_unit_price_minor: int | None = 0
    period_prices: Mapping[str, int] = field(default_factory=dict)
    points: tuple[PricePointInfo, ...] = ()
    enum_values: tuple[EnumValueInfo, ...] = ()
    children: tuple[str, ...] = ()
    parent: str | None = None
    overage_price_minor: Decimal | None = None
    statistics_rating: str = "per_month"
    aggregation: str = "sum"


@dataclass(frozen=True, slots=True)
class ParameterInfo:
    intname: str
    name: str
    required: bool
    values: tuple[str, ...]
    value_names: tuple[str, ...] = ()  # display names, parallel to ``values``

    def value_name(self, value: str) -> str:
        if value in self.values and len(self.value_names) == len(self.values):
            return self.value_names[self.values.index(value)]
        return value


@dataclass(frozen=True, slots=True)
class TariffInfo:
    """Everything needed to price one tariff in one currency."""

    id: int
    name: str
    currency: str
    provider_id: int
    product_type: str
    status: str
    billing_mode: str
    prorata_day: int
    trial_days: int
    order_limit: int | None
    prices: Mapping[str, PeriodPrice]
    addons: tuple[AddonInfo, ...]
    parameters: tuple[ParameterInfo, ...] = ()

    def addon(self, intname: str) -> AddonInfo:
        for addon in self.addons:
            if addon.intname == intname:
                return addon
        raise PricingError(f"Unknown addon {intname!r}", code="unknown_addon", addon=intname)

    @property
    def top_addons(self) -> tuple[AddonInfo, ...]:
        return tuple(a for a in self.addons if a.parent is None)


@dataclass(frozen=True, slots=True)
class PriceLine:
    """One priced line. ``amount == unit_price * quantity`` always."""

    kind: LineKind
    code: str
    description: str
    quantity: int
    unit_price: Money
    amount: Money
    reason: str


def lines_total(lines: Sequence[PriceLine], currency: str) -> Money:
    total = Money.zero(currency)
    for line in lines:
        total = total + line.amount
    return total


# -- entry points -----------------------------------------------------------------------------


def price_tariff(
    info: TariffInfo,
    *,
    period: Period | str,
    addon_values: Mapping[str, AddonValue],
    currency: str,
    parameters: Mapping[str, str] | None = None,
    include_setup: bool = True,
    require_parameters: bool = True,
) -> list[PriceLine]:
    """Price ``info`` for one ``period`` with the client's ``addon_values`` (by internal name).

    Missing addon values take their defaults. ``parameters`` (e.g. {"os": "debian-12"}) are
    checked against the product type when given (required ones too, unless
    ``require_parameters`` is off: a quick order configured later); they never change the price.
    """
    per = _period(period)
    if currency != info.currency:
        raise PricingError(
            f"Tariff info is in {info.currency}, not {currency}", code="currency_mismatch"
        )
    for name in addon_values:
        if info.addon(name).parent is not None:
            raise PricingError(f"{name!r} is chosen through its parent", code="unknown_addon")
    if parameters is not None:
        check_parameters(info, parameters, require_all=require_parameters)
    lines = _tariff_lines(info, per, include_setup)
    if parameters and lines and lines[0].kind == LineKind.TARIFF:
        lines[0] = _with_parameters(info, lines[0], parameters)
    for addon in info.top_addons:
        lines.extend(_addon_lines(info, addon, per, addon_values.get(addon.intname)))
    return lines


def _with_parameters(info: TariffInfo, line: PriceLine, parameters: Mapping[str, str]) -> PriceLine:
    """The tariff line names the chosen parameters (``VPS-S (1m), Operating system: Debian
    12``): the cart, the order and the invoice line show what was ordered."""
    chosen = [
        f"{p.name}: {p.value_name(parameters[p.intname])}"
        for p in info.parameters
        if parameters.get(p.intname)
    ]
    if not chosen:
        return line
    return dataclasses.replace(line, description=", ".join([line.description, *chosen]))


def check_addon_change(
    info: TariffInfo, addon: str, old: AddonValue | None, new: AddonValue
) -> None:
    """Refuse (``addon_edit_forbidden``) a change the addon's edit policy does not allow.

    ``new`` must also be a valid value (range, step, enum). Changing nothing is always allowed.
    """
    a = info.addon(addon)
    new_norm = _normalise(info, a, new)
    old_norm = _normalise(info, a, old)
    if old_norm == new_norm:
        return
    fixed = a.billing_type in (BillingType.INCLUDED, BillingType.STATISTICS)
    if fixed or a.edit_policy == EditPolicy.FIXED:
        _forbid(a, "cannot be changed after order")
    if a.edit_policy == EditPolicy.INCREASE_ONLY and _rank(a, new_norm) < _rank(a, old_norm):
        _forbid(a, "can only be increased")
    if a.edit_policy == EditPolicy.DECREASE_ONLY and _rank(a, new_norm) > _rank(a, old_norm):
        _forbid(a, "can only be decreased")


def check_parameters(
    info: TariffInfo, parameters: Mapping[str, str], *, require_all: bool = True
) -> None:
    """Every given parameter is known and has one of its values; with ``require_all`` every
    required parameter is given (off for a quick order: the client configures later)."""
    known = {p.intname: p for p in info.parameters}
    for name, value in parameters.items():
        if name not in known:
            raise PricingError(f"Unknown parameter {name!r}", code="unknown_parameter")
        if value not in known[name].values:
            raise PricingError(
                f"{value!r} is not a value of {name!r}", code="invalid_parameter_value"
            )
    for p in info.parameters if require_all else ():
        if p.required and p.intname not in parameters:
            raise PricingError(f"Parameter {p.intname!r} is required", code="missing_parameter")


# -- tariff -----------------------------------------------------------------------------------


def _period(period: Period | str) -> Period:
    try:
        return Period(period)
    except ValueError:
        raise PricingError(f"Unknown period {period!r}", code="invalid_period") from None


def offered_periods(info: TariffInfo) -> list[str]:
    """The periods ``info`` may be ordered for: those priced in its currency, and the trial
    when the tariff has trial days (a trial is free and needs no price)."""
    periods = [p for p in info.prices if p != Period.TRIAL]
    if info.trial_days > 0 or Period.TRIAL.value in info.prices:
        periods.append(Period.TRIAL.value)
    return periods


#: The paid period a trial converts to by default: the shortest one offered.
_PAID_PERIODS = [p for p in Period if p.is_monthly]


def period_after_trial(info: TariffInfo) -> str:
    """The paid period a trial of ``info`` continues as (its auto-renew period, which the
    client may change): the shortest monthly period offered, else "" (the trial just ends)."""
    return next((p.value for p in _PAID_PERIODS if p.value in info.prices), "")


def _trial_lines(info: TariffInfo) -> list[PriceLine]:
    # A "trial" price row (before trial_days said it) still offers it; it is free either way.
    if info.trial_days < 1 and Period.TRIAL.value not in info.prices:
        raise PricingError(
            f"{info.name} has no trial", code="period_not_offered", period=Period.TRIAL.value
        )
    days = info.trial_days
    zero = Money.zero(info.currency)
    reason = f"free trial of {days} day{'s' if days != 1 else ''}" if days else "free trial"
    return [_line(LineKind.TARIFF, "tariff", f"{info.name} (trial)", 1, zero, reason)]


def _tariff_lines(info: TariffInfo, per: Period, include_setup: bool) -> list[PriceLine]:
    if per is Period.TRIAL:  # free, however the tariff's prices are set
        return _trial_lines(info)
    price = info.prices.get(per.value)
    if price is None:
        raise PricingError(
            f"{info.name} is not offered for {per.value} in {info.currency}",
            code="period_not_offered",
            period=per.value,
        )
    amount = Money(price.amount_minor, info.currency)
    lines = [
        _line(
            LineKind.TARIFF,
            "tariff",
            f"{info.name} ({per.value})",
            1,
            amount,
            f"tariff price for {_period_label(per)}",
        )
    ]
    if include_setup and price.setup_fee_minor:
        fee = Money(price.setup_fee_minor, info.currency)
        lines.append(
            _line(LineKind.SETUP, "setup", f"{info.name}: setup", 1, fee, "one-off setup fee")
        )
    return lines


def _line(
    kind: LineKind, code: str, description: str, quantity: int, unit: Money, reason: str
) -> PriceLine:
    return PriceLine(kind, code, description, quantity, unit, unit * quantity, reason)


def _period_label(per: Period) -> str:
    if per.months:
        return "1 month" if per.months == 1 else f"{per.months} months"
    return {Period.DAY: "1 day", Period.HOUR: "1 hour"}.get(per, "the trial")


# -- addons -----------------------------------------------------------------------------------


def _addon_lines(
    info: TariffInfo, a: AddonInfo, per: Period, raw: AddonValue | None
) -> list[PriceLine]:
    if a.billing_type == BillingType.STATISTICS:
        if raw is not None:
            _forbid(a, "is measured by usage, not chosen")
        return [_usage_line(info, a)]
    value = _normalise(info, a, raw)
    if a.billing_type == BillingType.INCLUDED:
        if raw is not None and value != _default(info, a):
            _forbid(a, "is included in the tariff and cannot be changed")
        return [_zero(info, a, f"{_show(a, value)}, included in the tariff")]
    if a.billing_type == BillingType.CLIENT_CHOICE:
        return [_choice_line(info, a, per, str(value))]
    if a.value_type == ValueType.ENUM:
        return [_enum_line(info, a, per, str(value))]
    if a.value_type == ValueType.BOOL:
        return [_bool_line(info, a, per, bool(value))]
    return _int_lines(info, a, per, int(value))


def _zero(info: TariffInfo, a: AddonInfo, reason: str) -> PriceLine:
    return _line(LineKind.ADDON, a.intname, a.name, 0, Money.zero(info.currency), reason)


def _usage_line(info: TariffInfo, a: AddonInfo) -> PriceLine:
    if a.overage_price_minor is None:
        over = "overage priced in another currency"
    else:
        over = f"{a.overage_price_minor.normalize():f} minor units of {info.currency} per {a.unit}"
    reason = f"billed by usage ({a.statistics_rating}): {a.included} {a.unit} included, then {over}"
    return _zero(info, a, reason)


def _unit_price(info: TariffInfo, a: AddonInfo, per: Period) -> tuple[Money, str]:
    """The price of one unit for ``per``, and how it was found."""
    if per.value in a.period_prices:
        price = Money(a.period_prices[per.value], info.currency)
        return price, f"{price} per unit for {_period_label(per)}"
    if per.months and a.monthly_unit_price_minor is not None:
        monthly = Money(a.monthly_unit_price_minor, info.currency)
        if per.months == 1:
            return monthly, f"{monthly}"
        return monthly * per.months, f"{monthly}/month x {per.months} months"
    if per == Period.TRIAL:
        return Money.zero(info.currency), "free during the trial"
    raise PricingError(
        f"Addon {a.intname!r} has no {per.value} price in {info.currency}",
        code="addon_period_not_priced",
        addon=a.intname,
    )


def _bool_line(info: TariffInfo, a: AddonInfo, per: Period, on: bool) -> PriceLine:
    if not on:
        return _zero(info, a, "off")
    if a.included:
        return _zero(info, a, "on, included in the tariff")
    unit, how = _unit_price(info, a, per)
    return _line(LineKind.ADDON, a.intname, a.name, 1, unit, f"on, 1 x {how}")


def _choice_line(info: TariffInfo, a: AddonInfo, per: Period, child_name: str) -> PriceLine:
    child = info.addon(child_name)
    description = f"{a.name}: {child.name}"
    if child.included:
        reason = f"{child.name}, included in the tariff"
        return _line(LineKind.ADDON, a.intname, description, 0, Money.zero(info.currency), reason)
    unit, how = _unit_price(info, child, per)
    return _line(LineKind.ADDON, a.intname, description, 1, unit, f"{child.name}, 1 x {how}")


def _enum_line(info: TariffInfo, a: AddonInfo, per: Period, value: str) -> PriceLine:
    ev = next(v for v in a.enum_values if v.intname == value)
    description = f"{a.name}: {ev.name}"
    if per.value in ev.prices:
        unit = Money(ev.prices[per.value], info.currency)
        how = f"{ev.name}, price for {_period_label(per)}"
    elif Period.MONTH_1.value in ev.prices and per.months:
        monthly = Money(ev.prices[Period.MONTH_1.value], info.currency)
        unit, how = monthly * per.months, f"{ev.name}, {monthly}/month x {per.months} months"
    elif not ev.prices or per == Period.TRIAL:
        unit, how = Money.zero(info.currency), f"{ev.name}, no charge"
    else:
        raise PricingError(
            f"{a.intname}={value} has no {per.value} price in {info.currency}",
            code="addon_period_not_priced",
        )
    return _line(LineKind.ADDON, a.intname, description, 1, unit, how)


def _int_lines(info: TariffInfo, a: AddonInfo, per: Period, value: int) -> list[PriceLine]:
    shown = _show(a, value)
    billed = max(0, value - a.included)
    if billed == 0:
        return [_zero(info, a, f"{shown}, {a.included} included")]
    lines: list[PriceLine] = []
    for first, last, unit, how in _sectors(info, a, per, a.included + 1, value):
        qty = last - first + 1
        label = f"{a.name}: {shown}"
        if first != a.included + 1 or last != value:
            label = f"{a.name}: units {first}-{last}"
        reason = f"{shown}, {a.included} included, {qty} x {how}"
        lines.append(_line(LineKind.ADDON, a.intname, label, qty, unit, reason))
    return lines


def _sectors(
    info: TariffInfo, a: AddonInfo, per: Period, first: int, last: int
) -> list[tuple[int, int, Money, str]]:
    """Split units ``first..last`` into price sectors: (from, to, unit price, how)."""
    points = sorted(a.points, key=lambda p: p.from_value) if per.months else []
    bounds: list[tuple[int, PricePointInfo | None]] = []
    if not points or points[0].from_value > 1:
        bounds.append((1, None))
    bounds += [(p.from_value, p) for p in points]
    out: list[tuple[int, int, Money, str]] = []
    for i, (start, point) in enumerate(bounds):
        end = bounds[i + 1][0] - 1 if i + 1 < len(bounds) else last
        lo, hi = max(start, first), min(end, last)
        if lo > hi:
            continue
        if point is None:
            unit, how = _unit_price(info, a, per)
        else:
            monthly = Money(point.unit_price_minor, info.currency)
            unit = monthly * per.months
            how = f"{monthly}" if per.months == 1 else f"{monthly}/month x {per.months} months"
            how += f" (price point from {point.from_value})"
        out.append((lo, hi, unit, how))
    return out


# -- values -----------------------------------------------------------------------------------


def _default(info: TariffInfo, a: AddonInfo) -> AddonValue:
    if a.billing_type == BillingType.CLIENT_CHOICE:
        if not a.children:
            raise PricingError(f"{a.intname!r} has no options", code="invalid_addon_value")
        return a.children[0]
    if a.value_type == ValueType.ENUM:
        if not a.enum_values:
            raise PricingError(f"{a.intname!r} has no active values", code="invalid_enum_value")
        return a.enum_values[0].intname
    if a.value_type == ValueType.BOOL:
        return bool(a.included or a.default_value)
    return a.included if a.billing_type == BillingType.INCLUDED else a.default_value


def _normalise(info: TariffInfo, a: AddonInfo, raw: AddonValue | None) -> AddonValue:
    """Validate a client-supplied value (None = the default) and return it in canonical form."""
    if raw is None:
        return _default(info, a)
    if a.billing_type == BillingType.CLIENT_CHOICE:
        if raw not in a.children:
            raise PricingError(
                f"{raw!r} is not an option of {a.intname!r}", code="invalid_enum_value"
            )
        return raw
    if a.value_type == ValueType.ENUM:
        if not isinstance(raw, str) or raw not in {v.intname for v in a.enum_values}:
            raise PricingError(
                f"{raw!r} is not a value of {a.intname!r}", code="invalid_enum_value"
            )
        return raw
    if a.value_type == ValueType.BOOL:
        if raw not in (True, False, 0, 1) or isinstance(raw, str):
            raise PricingError(f"{a.intname!r} takes true/false", code="invalid_addon_value")
        return bool(raw)
    return _check_int(a, raw)


def _check_int(a: AddonInfo, raw: AddonValue) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise PricingError(f"{a.intname!r} takes an integer", code="invalid_addon_value")
    if a.billing_type == BillingType.INCLUDED:
        return raw
    if raw < a.min_value or (a.max_value is not None and raw > a.max_value):
        raise PricingError(
            f"{a.intname}={raw} is outside {a.min_value}..{a.max_value}",
            code="addon_value_out_of_range",
            addon=a.intname,
        )
    if (raw - a.min_value) % a.step:
        raise PricingError(
            f"{a.intname}={raw} is not {a.min_value} + a multiple of {a.step}",
            code="addon_step_mismatch",
            addon=a.intname,
        )
    return raw


def _rank(a: AddonInfo, value: AddonValue) -> int:
    if a.billing_type == BillingType.CLIENT_CHOICE:
        return a.children.index(str(value))
    if a.value_type == ValueType.ENUM:
        return [v.intname for v in a.enum_values].index(str(value))
    return int(value)


def _show(a: AddonInfo, value: AddonValue) -> str:
    return f"{value} {a.unit}".strip()


def _forbid(a: AddonInfo, why: str) -> None:
    raise PricingError(f"{a.name} {why}", code="addon_edit_forbidden", addon=a.intname)
