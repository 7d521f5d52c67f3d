"""Payment writes (STYLE §1): one module per use case, the public actions re-exported here.

- ``payments``: create, start, mark paid / failed / cancelled, saved-method charges;
- ``refunds``: full and partial refunds, to the gateway or to the balance;
- ``webhooks``: verify -> dedupe -> apply;
- ``janitor``: resolve unknown and stale pending payments by asking the gateway.
"""

from billow.payments.actions.janitor import resolve_open_payments
from billow.payments.actions.payments import (
    apply_outcome,
    build_gateway,
    charge_saved_method,
    configure_payment_method,
    confirm_manual_payment,
    create_payment,
    mark_payment_cancelled,
    mark_payment_failed,
    mark_payment_paid,
    remember_saved_method,
    start_payment,
)
from billow.payments.actions.refunds import apply_refund_outcome, refund_payment
from billow.payments.actions.webhooks import handle_webhook

__all__ = [
    "apply_outcome",
    "apply_refund_outcome",
    "build_gateway",
    "charge_saved_method",
    "configure_payment_method",
    "confirm_manual_payment",
    "create_payment",
    "handle_webhook",
    "mark_payment_cancelled",
    "mark_payment_failed",
    "mark_payment_paid",
    "refund_payment",
    "remember_saved_method",
    "resolve_open_payments",
    "start_payment",
]
