"""Catalog refusals. Every one is a ``BillowError`` subclass with a stable ``code``.

Codes raised by the catalog (callers match on these, never on the message):

- prices: ``negative_price``, ``amount_out_of_range``, ``invalid_amount``, ``unknown_currency``,
  ``invalid_period``, ``invalid_rate``, ``same_currency_rate``, ``no_exchange_rate``
- ranges: ``invalid_range``, ``invalid_step``, ``step_does_not_divide_range``,
  ``invalid_prorata_day``, ``invalid_choice``, ``invalid_intname``
- structure: ``enumeration_required``, ``enumeration_not_allowed``, ``invalid_parent``,
  ``addon_not_stepped``, ``invalid_enum_value``, ``group_visibility_overlap``,
  ``tariff_field_immutable``, ``duplicate`` (ConflictError)
- pricing: ``period_not_offered``, ``addon_period_not_priced``, ``unknown_addon``,
  ``addon_value_out_of_range``, ``addon_step_mismatch``, ``invalid_addon_value``,
  ``addon_edit_forbidden``, ``missing_parameter``, ``unknown_parameter``,
  ``invalid_parameter_value``, ``currency_mismatch``
- reads: ``tariff_not_found`` (NotFoundError)
"""

from __future__ import annotations

from billow.core.errors import ConflictError, NotFoundError, ValidationError


class CatalogValidationError(ValidationError):
    """Bad catalog input (a price, range, choice or combination)."""


class PricingError(ValidationError):
    """A tariff cannot be priced with the given period, currency or addon values."""


class ExchangeRateMissingError(ValidationError):
    code = "no_exchange_rate"


class CatalogConflictError(ConflictError):
    code = "duplicate"


class CatalogNotFoundError(NotFoundError):
    pass
