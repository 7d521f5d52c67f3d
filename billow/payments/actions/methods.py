"""Staff configure a payment method: its gateway config and secrets, checked against what the
gateway can do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction

from billow.accounts.models import ClientGroup, Provider
from billow.core.actors import Actor
from billow.core.journal import record_change, snapshot
from billow.payments.actions.gateway_calls import check_gateway_allowed
from billow.payments.errors import GatewayError, PaymentError
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


PAYMENT_METHOD_MUTABLE = frozenset(
    {
        "name",
        "fee_fixed_minor",
        "fee_percent",
        "min_amount_minor",
        "max_amount_minor",
        "sort",
        "is_active",
        "supports_refunds",
        "supports_recurring",
    }
)


def _check_amounts(method: PaymentMethod) -> None:
    if method.fee_fixed_minor < 0 or method.min_amount_minor < 0:
        raise PaymentError("fees and minimums are not negative", code="invalid_payment_method")
    if not Decimal(0) <= method.fee_percent <= Decimal(100):
        raise PaymentError("a commission is between 0 and 100 %", code="invalid_payment_method")
    if method.max_amount_minor is not None and method.max_amount_minor < method.min_amount_minor:
        raise PaymentError("the maximum is below the minimum", code="invalid_payment_method")


def create_payment_method(
    *,
    provider: Provider,
    gateway: str,
    name: str,
    currency: str,
    config: Mapping[str, Any] | None = None,
    secrets: Mapping[str, str] | None = None,
    client_groups: Sequence[ClientGroup] = (),
    actor: Actor | None = None,
    **fields: Any,
) -> PaymentMethod:
    """A new method of ``provider`` for ``currency`` through ``gateway`` (money fields in minor
    units). Refusals: ``invalid_payment_method`` and those of ``configure_payment_method``."""
    unknown = set(fields) - PAYMENT_METHOD_MUTABLE
    if unknown:
        raise PaymentError(f"unknown fields {sorted(unknown)}", code="invalid_payment_method")
    method = PaymentMethod(
        provider=provider, gateway=gateway, name=name, currency=currency, **fields
    )
    _check_amounts(method)
    with transaction.atomic():
        configure_payment_method(method=method, config=config or {}, secrets=secrets, actor=actor)
        method.client_groups.set(client_groups)
        record_change(actor=actor, obj=method, before=None, after=snapshot(method))
    return method


def update_payment_method(
    *,
    method: PaymentMethod,
    config: Mapping[str, Any] | None = None,
    secrets: Mapping[str, str] | None = None,
    client_groups: Sequence[ClientGroup] | None = None,
    actor: Actor | None = None,
    **changes: Any,
) -> PaymentMethod:
    """Change a method (``is_active=False`` deactivates it: payments reference it, so it is
    never deleted); its gateway, provider and currency are fixed."""
    unknown = set(changes) - PAYMENT_METHOD_MUTABLE
    if unknown:
        raise PaymentError(f"cannot change {sorted(unknown)}", code="invalid_payment_method")
    fresh = PaymentMethod.objects.get(pk=method.pk)
    before = snapshot(fresh)
    for key, value in changes.items():
        setattr(fresh, key, value)
    _check_amounts(fresh)
    with transaction.atomic():
        configure_payment_method(method=fresh, config=config, secrets=secrets, actor=actor)
        if client_groups is not None:
            fresh.client_groups.set(client_groups)
        record_change(actor=actor, obj=fresh, before=before, after=snapshot(fresh))
    return fresh
