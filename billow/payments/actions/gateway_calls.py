"""Talking to a payment method's gateway: the configured adapter, the request of a payment
(the same every time, so the janitor can re-send it), and one call whose transport failure
becomes an ``unknown`` outcome. Gateways are called outside any DB transaction.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings

from billow.core.errors import RetryableError
from billow.core.money import Money
from billow.payments.errors import GatewayError
from billow.payments.gateways import gateways
from billow.payments.gateways.base import Gateway, Outcome, OutcomeStatus, PaymentRequest
from billow.payments.models import Payment, PaymentMethod, PaymentPurpose
from billow.payments.secrets import get_secrets


def build_gateway(method: PaymentMethod) -> Gateway:
    """The adapter of ``method`` with its config and decrypted secrets (``not_found`` for an
    unregistered gateway key)."""
    cls = gateways.get(method.gateway)
    check_gateway_allowed(method.gateway)
    return cls(config=method.config, secrets=get_secrets(method), method_id=method.pk)


def check_gateway_allowed(gateway: str) -> None:
    """The sandbox pays anything: it runs only with ``DEBUG`` or ``PAYMENTS_ALLOW_SANDBOX``
    (``sandbox_not_allowed`` otherwise, before anything is written or sent)."""
    if gateway == "sandbox" and not (
        settings.DEBUG or getattr(settings, "PAYMENTS_ALLOW_SANDBOX", False)
    ):
        raise GatewayError(
            "the sandbox gateway is off in production (set BILLOW_ALLOW_SANDBOX=1 to allow it)",
            code="sandbox_not_allowed",
        )


def payment_request(payment: Payment) -> PaymentRequest:
    """The gateway request of ``payment`` (the same every time: the janitor re-sends it)."""
    saved = payment.saved_method
    return PaymentRequest(
        payment_id=payment.pk,
        idempotency_key=f"billow-payment-{payment.idempotency_key}"[:255],
        amount=Money(payment.total_minor, payment.currency),
        description=_description(payment),
        return_url=payment.return_url,
        customer_email=payment.client.email,
        save_method=payment.save_method,
        saved_token=saved.gateway_token if saved is not None else "",
    )


def _description(payment: Payment) -> str:
    if payment.purpose == PaymentPurpose.ORDER:
        return f"Payment #{payment.pk} ({payment.reference})"
    return f"Balance top-up #{payment.pk}"


def call_gateway(call: Callable[[], Outcome]) -> Outcome:
    """Run one adapter call; a transport failure becomes an ``unknown`` outcome."""
    try:
        return call()
    except RetryableError as exc:
        return Outcome(OutcomeStatus.UNKNOWN, code=exc.code, message=exc.message)
