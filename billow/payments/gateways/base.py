"""The gateway contract (STYLE §7): a small ABC, typed requests and outcomes, a registry.

An adapter never touches the database. The actions layer builds it from a ``PaymentMethod``
(config + decrypted secrets), calls it outside any DB transaction, and applies the typed outcome.
Business results (declined, pending, timeout) are outcomes, never exceptions; a configuration
problem raises ``GatewayError``; an untrustworthy webhook raises ``WebhookError``.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from billow.core.jsonlimits import JsonLimitError, check_json_body
from billow.core.money import Money
from billow.core.registry import Registry
from billow.payments.errors import GatewayError, WebhookError
from billow.payments.gateways.transport import Transport, default_transport


class OutcomeStatus(StrEnum):
    SUCCEEDED = "succeeded"
    PENDING = "pending"
    FAILED = "failed"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class SavedMethodInfo:
    """A reusable method the gateway returned: its token and a human label."""

    token: str
    label: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the gateway answered about a payment (or refund)."""

    status: OutcomeStatus
    reference: str = ""
    redirect_url: str = ""
    instructions: str = ""
    code: str = ""
    message: str = ""
    amount_minor: int | None = None
    saved_method: SavedMethodInfo | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    #: The ISO code of ``amount_minor`` when the gateway reports one (compared with the payment's).
    currency: str = ""


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    """One payment to start or charge. ``amount`` is the total the payer is charged."""

    payment_id: int
    idempotency_key: str
    amount: Money
    description: str
    return_url: str = ""
    customer_email: str = ""
    save_method: bool = False
    saved_token: str = ""


@dataclass(frozen=True, slots=True)
class RefundRequest:
    refund_id: int
    idempotency_key: str
    payment_reference: str
    amount: Money
    payment_data: Mapping[str, Any] = field(default_factory=dict)


class EventKind(StrEnum):
    PAYMENT = "payment"
    REFUND = "refund"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class WebhookEventData:
    """A verified notification, reduced to what Billow acts on.

    ``payment_id`` is our id when the gateway echoes it back (metadata); otherwise the payment is
    found by ``reference`` (the gateway's id of the payment).
    """

    event_id: str
    event_type: str
    kind: EventKind
    outcome: Outcome
    payment_id: int | None = None
    reference: str = ""
    refund_id: int | None = None
    refund_reference: str = ""
    payload: Mapping[str, Any] = field(default_factory=dict)


class Gateway(ABC):
    """One payment gateway. Subclasses set the class attributes and implement ``start``."""

    key: ClassVar[str] = ""
    title: ClassVar[str] = ""
    config_fields: ClassVar[tuple[str, ...]] = ()
    secret_fields: ClassVar[tuple[str, ...]] = ()
    supports_refunds: ClassVar[bool] = False
    supports_recurring: ClassVar[bool] = False
    supports_webhooks: ClassVar[bool] = True
    #: Staff confirm payments by hand (bank transfer): the janitor never cancels them.
    manual_confirmation: ClassVar[bool] = False

    def __init__(
        self,
        *,
        config: Mapping[str, Any] | None = None,
        secrets: Mapping[str, str] | None = None,
        transport: Transport | None = None,
        method_id: int | None = None,
    ) -> None:
        self.config = dict(config or {})
        self.secrets = dict(secrets or {})
        self.transport = transport or default_transport()
        self.method_id = method_id

    # -- configuration ---------------------------------------------------------------------
    @classmethod
    def validate_config(cls, config: Mapping[str, Any]) -> dict[str, Any]:
        """Refuse unknown keys (``invalid_gateway_config``); subclasses add their checks."""
        unknown = sorted(set(config) - set(cls.config_fields))
        if unknown:
            raise GatewayError(
                f"unknown settings for {cls.key}: {', '.join(unknown)}",
                code="invalid_gateway_config",
                unknown=unknown,
            )
        return dict(config)

    def secret(self, name: str) -> str:
        value = self.secrets.get(name, "")
        if not value:
            raise GatewayError(
                f"{self.key}: secret {name!r} is not set", code="gateway_not_configured"
            )
        return value

    # -- operations ------------------------------------------------------------------------
    @abstractmethod
    def start(self, request: PaymentRequest) -> Outcome:
        """Begin a payment: a redirect URL or instructions (PENDING), or a final outcome."""

    def fetch(self, reference: str) -> Outcome:
        """Ask the gateway for the payment's state (the janitor). Default: no way to ask."""
        return Outcome(OutcomeStatus.UNKNOWN, reference=reference, code="fetch_not_supported")

    def charge_saved(self, request: PaymentRequest) -> Outcome:
        """Charge a saved method without the payer (auto-payment, one-click)."""
        raise GatewayError(
            f"{self.key} cannot charge saved methods", code="recurring_not_supported"
        )

    def refund(self, request: RefundRequest) -> Outcome:
        raise GatewayError(f"{self.key} does not support refunds", code="refunds_not_supported")

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEventData:
        """Verify and read one notification; raise ``WebhookError`` when it cannot be trusted."""
        raise WebhookError(f"{self.key} sends no webhooks", code="webhooks_not_supported")


gateways: Registry[type[Gateway]] = Registry("payment gateway")


def header(headers: Mapping[str, str], name: str) -> str:
    """A header by case-insensitive name ("" when absent)."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return ""


def load_json(body: bytes) -> dict[str, Any]:
    try:
        check_json_body(body)  # also outside a request (the webhook job, a replay)
        data = json.loads(body)
    except JsonLimitError as exc:
        raise WebhookError(exc.message, code="webhook_malformed") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise WebhookError("the body is not JSON", code="webhook_malformed") from exc
    if not isinstance(data, dict):
        raise WebhookError("the body is not a JSON object", code="webhook_malformed")
    return data


def int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
