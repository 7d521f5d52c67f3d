"""Pure catalog validation rules, shared by the action layer and the models' ``clean()``.

Each function raises a catalog ``BillowError`` with a stable code or returns the normalised value.
The admin reaches them through ``Model.clean()`` (wrapped by :func:`as_django_errors`), the API and
scripts through ``actions``; both therefore refuse exactly the same input.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError

from billow.core.errors import BillowError
from billow.core.money import check_amount, exponent
from billow.core.periods import Period

from .choices import BillingType, ValueType
from .errors import CatalogValidationError

#: DecimalField(max_digits=20, decimal_places=10): rates and sub-cent prices.
RATE_MAX_DIGITS = 20
RATE_DECIMAL_PLACES = 10
_RATE_LIMIT = Decimal(10) ** (RATE_MAX_DIGITS - RATE_DECIMAL_PLACES)
_INTNAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")
PRORATA_DAY_MIN, PRORATA_DAY_MAX = 1, 28


def _fail(code: str, message: str, **details: Any) -> CatalogValidationError:
    return CatalogValidationError(message, code=code, **details)


def validate_currency_code(code: str) -> str:
    """A currency known to ``billow.core.money`` (raises ``unknown_currency``)."""
    exponent(code)
    return code


def validate_price(value: int, *, field: str = "amount_minor") -> int:
    """Integer minor units, 0 <= value < 2^63."""
    check_amount(value, field=field)
    if value < 0:
        raise _fail("negative_price", f"{field} must not be negative", field=field)
    return value


def validate_decimal(value: Decimal | int | str, *, field: str, positive: bool = False) -> Decimal:
    """A non-negative (or positive) Decimal that fits DecimalField(20, 10). Floats refused."""
    if isinstance(value, (float, bool)):
        raise _fail("invalid_amount", f"{field}: floats are not accepted", field=field)
    try:
        dec = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise _fail("invalid_amount", f"{field}: not a number", field=field) from None
    if not dec.is_finite():
        raise _fail("invalid_amount", f"{field}: not a finite number", field=field)
    if dec < 0 or (positive and dec == 0):
        code = "invalid_rate" if positive else "negative_price"
        raise _fail(code, f"{field} must be {'positive' if positive else 'non-negative'}")
    if dec >= _RATE_LIMIT:
        raise _fail("amount_out_of_range", f"{field} must be below {_RATE_LIMIT}", field=field)
    return dec.quantize(Decimal(1).scaleb(-RATE_DECIMAL_PLACES))


def validate_period(period: str) -> Period:
    try:
        return Period(period)
    except ValueError:
        raise _fail("invalid_period", f"Unknown period {period!r}", period=str(period)) from None


def validate_prorata_day(day: int) -> int:
    if isinstance(day, bool) or not isinstance(day, int):
        raise _fail("invalid_prorata_day", "prorata_day must be an integer")
    if not PRORATA_DAY_MIN <= day <= PRORATA_DAY_MAX:
        raise _fail(
            "invalid_prorata_day",
            f"prorata_day must be between {PRORATA_DAY_MIN} and {PRORATA_DAY_MAX}",
            prorata_day=day,
        )
    return day


def validate_choice(value: str, choices: Any, *, field: str) -> str:
    if value not in choices.values:
        raise _fail("invalid_choice", f"{field}: {value!r} is not one of {choices.values}")
    return value


def validate_intname(value: str) -> str:
    if not isinstance(value, str) or not _INTNAME.match(value):
        raise _fail(
            "invalid_intname",
            "Internal names are 1-50 chars: lowercase letters, digits, '-' and '_'",
            intname=str(value),
        )
    return value


def validate_non_negative_int(value: int, *, field: str) -> int:
    check_amount(value, field=field)
    if value < 0:
        raise _fail("invalid_range", f"{field} must not be negative", field=field)
    return value


def validate_scale(
    *, min_value: int, max_value: int | None, step: int, included: int, default_value: int
) -> None:
    """An integer value scale: 0 <= min <= max, step > 0 dividing (max - min), defaults inside."""
    for name, val in (("min_value", min_value), ("included", included), ("step", step)):
        validate_non_negative_int(val, field=name)
    validate_non_negative_int(default_value, field="default_value")
    if step <= 0:
        raise _fail("invalid_step", "step must be at least 1")
    if max_value is None:
        return
    validate_non_negative_int(max_value, field="max_value")
    if min_value > max_value:
        raise _fail("invalid_range", f"min_value {min_value} > max_value {max_value}")
    if (max_value - min_value) % step:
        raise _fail(
            "step_does_not_divide_range",
            f"step {step} does not divide the range {min_value}..{max_value}",
        )
    if not min_value <= default_value <= max_value:
        raise _fail("invalid_range", f"default_value {default_value} is outside the scale")


def validate_addon_shape(
    *,
    value_type: str,
    billing_type: str,
    has_enumeration: bool,
    parent_billing_type: str | None,
) -> None:
    """Combinations of value type, billing type, enumeration and parent that make sense."""
    validate_choice(value_type, ValueType, field="value_type")
    validate_choice(billing_type, BillingType, field="billing_type")
    if value_type == ValueType.ENUM and not has_enumeration:
        raise _fail("enumeration_required", "An enum addon needs an enumeration")
    if value_type != ValueType.ENUM and has_enumeration:
        raise _fail("enumeration_not_allowed", "Only enum addons have an enumeration")
    if billing_type == BillingType.STATISTICS and value_type != ValueType.INT:
        raise _fail("invalid_choice", "Statistics addons measure an integer quantity")
    if parent_billing_type is not None and parent_billing_type != BillingType.CLIENT_CHOICE:
        raise _fail("invalid_parent", "An addon's parent must be a 'client choice' addon")
    if parent_billing_type is not None and billing_type == BillingType.CLIENT_CHOICE:
        raise _fail("invalid_parent", "Client-choice addons cannot be nested")


def validate_bool_scale(*, included: int, default_value: int) -> None:
    if included not in (0, 1) or default_value not in (0, 1):
        raise _fail("invalid_range", "Boolean addons use 0/1 for included and default values")


@contextmanager
def as_django_errors(field: str | None = None) -> Iterator[None]:
    """Re-raise a BillowError as Django's ValidationError so admin forms show it."""
    try:
        yield
    except BillowError as exc:
        error = DjangoValidationError(exc.message, code=exc.code)
        if field is None:
            raise error from exc
        raise DjangoValidationError({field: error}) from exc


def validate_price_point(*, value_type: str, from_value: int, max_value: int | None) -> None:
    """Price points exist only on integer scales and start inside the scale."""
    if value_type != ValueType.INT:
        raise _fail("addon_not_stepped", "Price points apply to integer addons only")
    check_amount(from_value, field="from_value")
    if from_value < 1 or (max_value is not None and from_value > max_value):
        raise _fail("invalid_range", f"from_value {from_value} is outside 1..{max_value}")


def validate_enum_value_of_addon(
    *, addon_enumeration_id: int | None, value_enumeration_id: int
) -> None:
    if addon_enumeration_id is None or addon_enumeration_id != value_enumeration_id:
        raise _fail("invalid_enum_value", "The value is not in this addon's enumeration")


def validate_group_visibility(visible: Iterable[int], hidden: Iterable[int]) -> None:
    both = set(visible) & set(hidden)
    if both:
        raise _fail(
            "group_visibility_overlap",
            "A group cannot be both allowed and forbidden",
            groups=sorted(both),
        )
