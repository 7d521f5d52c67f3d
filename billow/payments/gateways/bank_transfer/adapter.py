"""Bank transfer: ``start`` returns payment instructions; staff confirm receipt in the admin
("Mark paid", which calls ``actions.mark_payment_paid``). Refunds are made by hand by staff,
so the gateway reports them done at once. Config: ``bank_details`` (printed on the
instructions), ``reference_prefix`` (default ``BT-``)."""

from __future__ import annotations

from billow.core.money import Money
from billow.payments.gateways.base import (
    Gateway,
    Outcome,
    OutcomeStatus,
    PaymentRequest,
    RefundRequest,
    gateways,
)


@gateways.register("bank_transfer")
class BankTransferGateway(Gateway):
    key = "bank_transfer"
    title = "Bank transfer (invoice)"
    config_fields = ("bank_details", "reference_prefix")
    supports_refunds = True
    supports_webhooks = False
    manual_confirmation = True

    def start(self, request: PaymentRequest) -> Outcome:
        reference = f"{self.config.get('reference_prefix', 'BT-')}{request.payment_id}"
        return Outcome(
            OutcomeStatus.PENDING,
            reference=reference,
            instructions=self.instructions(request.amount, reference),
        )

    def instructions(self, amount: Money, reference: str) -> str:
        details = str(self.config.get("bank_details", "")).strip()
        lines = [f"Transfer {amount} quoting the reference {reference}."]
        if details:
            lines.append(details)
        return "\n".join(lines)

    def fetch(self, reference: str) -> Outcome:
        return Outcome(OutcomeStatus.PENDING, reference=reference)

    def refund(self, request: RefundRequest) -> Outcome:
        return Outcome(OutcomeStatus.SUCCEEDED, reference=f"manual-{request.refund_id}")
