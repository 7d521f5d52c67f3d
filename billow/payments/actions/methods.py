"""Staff configure a payment method: its gateway config and secrets, checked against what the
gateway can do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from billow.core.actors import Actor
from billow.payments.actions.gateway_calls import check_gateway_allowed
from billow.payments.errors import GatewayError
from billow.payments.gateways import gateways
from billow.payments.models import PaymentMethod
from billow.payments.secrets import get_secrets, set_secrets


def configure_payment_method(
    *,
    method: PaymentMethod,
    config: Mapping[str, Any] | None = None,
    secrets: Mapping[str, str] | None = None,
    actor: Actor | None = None,
) -> PaymentMethod:
    """Validate and save ``method``; ``secrets=None`` keeps the stored ones.

    Refusals: ``not_found`` (unknown gateway), ``sandbox_not_allowed`` (production),
    ``invalid_gateway_config``, ``unknown_secret``.
    """
    cls = gateways.get(method.gateway)
    check_gateway_allowed(method.gateway)
    method.config = cls.validate_config(config if config is not None else method.config)
    if secrets is not None:
        unknown = sorted(set(secrets) - set(cls.secret_fields))
        if unknown:
            raise GatewayError(f"unknown secrets: {', '.join(unknown)}", code="unknown_secret")
        set_secrets(method, {**get_secrets(method), **secrets} if method.pk else secrets)
    if method.supports_refunds and not cls.supports_refunds:
        raise GatewayError(f"{cls.key} cannot refund", code="refunds_not_supported")
    if method.supports_recurring and not cls.supports_recurring:
        raise GatewayError(f"{cls.key} cannot charge saved methods", code="recurring_not_supported")
    with transaction.atomic():
        method.save()
    return method
