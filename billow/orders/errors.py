"""Order refusals (stable codes): ``cart_empty``, ``cart_item_not_found``,
``tariff_not_available`` (not on sale or hidden from the client's groups),
``order_limit_reached``, ``order_not_open`` (settling/cancelling a paid or cancelled order),
``order_currency_not_sold`` (a tariff without prices in the order currency cannot be ordered,
only quoted), ``promo_code_not_applicable`` (the code discounts nothing in this cart),
``bonus_redemption_not_supported``, ``service_not_awaiting_configuration``,
``trial_already_used`` (a tariff's trial, once per client per tariff or product type).
Catalog pricing codes and promo codes pass through unchanged."""

from __future__ import annotations

from billow.core.errors import ConflictError, ValidationError


class OrderError(ValidationError):
    code = "order_error"


class OrderConflictError(ConflictError):
    code = "order_not_open"
