"""Promotion and promo-code refusals. Codes are stable; callers match on them.

- ``promo_code_not_found``: no active code with that text for the provider.
- ``promo_code_expired``: outside the promotion's validity dates.
- ``promo_code_not_applicable``: the client does not meet the promotion's conditions, or no
  cart line is discounted by it.
- ``promo_code_exhausted``: the total limit of the code or its promotion is used up.
- ``promo_code_client_limit``: the client used the code (or promotion) as often as allowed.
- ``promo_code_first_order_only``: the promotion is for a client's first order only.
- ``invalid_promotion`` / ``invalid_discount`` / ``invalid_condition``: bad admin input.
"""

from __future__ import annotations

from billow.core.errors import ConflictError, NotFoundError, ValidationError


class PromoError(ValidationError):
    code = "promo_error"


class PromoNotFoundError(NotFoundError):
    code = "promo_code_not_found"


class PromoExhaustedError(ConflictError):
    code = "promo_code_exhausted"
