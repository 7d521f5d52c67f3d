"""Client billing settings: credit limit or post-paid, per currency."""

from __future__ import annotations

from django.db import transaction

from billow.accounts.models import Client
from billow.billing.errors import BillingError
from billow.billing.models import (
    ClientBillingSettings,
)
from billow.core import clock
from billow.core.actors import Actor
from billow.core.money import check_amount, exponent


def set_client_billing_settings(
    *,
    client: Client,
    currency: str,
    credit_limit_minor: int = 0,
    postpaid: bool = False,
    respite_unlimited: bool = False,
    respite_days: int = 0,
    block_days: int | None = None,
    actor: Actor | None = None,
) -> ClientBillingSettings:
    """Set a client's credit limit or post-paid mode in one currency (mutually exclusive) and
    its credit terms (``billing.overdue``: days till respite or unlimited respite, block-in
    days; None: never blocked). A running promised payment is kept."""
    exponent(currency)
    check_amount(credit_limit_minor, field="credit_limit_minor")
    if credit_limit_minor < 0:
        raise BillingError("the credit limit cannot be negative", code="invalid_credit_limit")
    if respite_days < 0 or (block_days is not None and block_days < 0):
        raise BillingError("days cannot be negative", code="invalid_credit_terms")
    if postpaid and credit_limit_minor:
        raise BillingError(
            "post-paid and a credit limit exclude each other", code="credit_limit_with_postpaid"
        )
    # not durable: the staff admin saves inside its own transaction (its add/change views)
    with transaction.atomic():
        row, _ = ClientBillingSettings.objects.update_or_create(
            client=client,
            currency=currency,
            defaults={
                "credit_limit_minor": credit_limit_minor,
                "postpaid": postpaid,
                "respite_unlimited": respite_unlimited,
                "respite_days": respite_days,
                "block_days": block_days,
                "updated_at": clock.now(),
            },
        )
    return row
