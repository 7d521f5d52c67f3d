"""Payment writes (STYLE §1): one module per use case, the public actions re-exported here.

- ``methods``: staff configure a payment method (config and secrets);
- ``creation``: create a payment (once per idempotency key) and start it at its gateway;
- ``outcomes``: apply what the gateway said: paid, failed, cancelled, still open;
- ``charges``: charge a saved method without the payer (auto-payment, one click);
- ``saved_methods``: remember a saved method; the client's default, auto-payment maximum, removal;
- ``refunds``: full and partial refunds, to the gateway or to the balance;
- ``webhooks``: verify -> dedupe -> apply;
- ``janitor``: resolve unknown and stale pending payments by asking the gateway;
- shared parts: ``transitions`` (the one status change and its event), ``accounts`` (the
  ledger accounts, locked balance first), ``gateway_calls`` (adapter, request, one call).

The modules import each other's public names only.
"""

from billow.payments.actions.charges import charge_saved_method
from billow.payments.actions.creation import check_payment_request, create_payment, start_payment
from billow.payments.actions.gateway_calls import build_gateway
from billow.payments.actions.janitor import resolve_open_payments
from billow.payments.actions.methods import (
    configure_payment_method,
    create_payment_method,
    update_payment_method,
)
from billow.payments.actions.outcomes import (
    apply_outcome,
    confirm_manual_payment,
    mark_payment_cancelled,
    mark_payment_failed,
    mark_payment_paid,
)
from billow.payments.actions.refunds import apply_refund_outcome, refund_payment
from billow.payments.actions.saved_methods import remember_saved_method
from billow.payments.actions.webhooks import handle_webhook

__all__ = [
    "apply_outcome",
    "apply_refund_outcome",
    "build_gateway",
    "charge_saved_method",
    "check_payment_request",
    "configure_payment_method",
    "confirm_manual_payment",
    "create_payment",
    "create_payment_method",
    "handle_webhook",
    "mark_payment_cancelled",
    "mark_payment_failed",
    "mark_payment_paid",
    "refund_payment",
    "remember_saved_method",
    "resolve_open_payments",
    "start_payment",
    "update_payment_method",
]
