"""Payment refusals. Every code is stable: interfaces map codes, never messages."""

from __future__ import annotations

from billow.core.errors import ConflictError, NotFoundError, ValidationError


class PaymentError(ValidationError):
    """A payment request that breaks a rule (amount, currency, method access ...)."""

    code = "payment_error"


class PaymentNotFoundError(NotFoundError):
    code = "payment_not_found"


class PaymentConflictError(ConflictError):
    """The request clashes with the payment's state (already paid, reused key ...)."""

    code = "payment_conflict"


class RefundError(ValidationError):
    code = "refund_error"


class WebhookError(ValidationError):
    """A webhook that cannot be trusted or read: nothing is written for it."""

    code = "webhook_invalid"


class GatewayError(ValidationError):
    """The gateway said no in a way that is not a payment outcome (bad config, unsupported)."""

    code = "gateway_error"
