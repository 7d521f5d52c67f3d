"""Billing use cases: opening charge, renewal, tariff and addon changes, deletion, resumption
after a top-up, staff credits, staff service operations (``staff_ops``), client billing
settings and promised payments.

Each action is one DB transaction that locks the client's balance account first and the
service second (the one lock order, shared with the billing run), validates everything before
writing, and is idempotent where a retry is plausible (charges carry unique keys). A refusal
raises a ``BillowError`` with a stable code and writes nothing.
"""

from billow.billing.actions.changes import change_addons, change_tariff
from billow.billing.actions.credits import credit_charge
from billow.billing.actions.deletion import delete_service
from billow.billing.actions.promised import (
    grant_promised_payment,
    revoke_promised_payment,
    take_promised_payment,
)
from billow.billing.actions.renewal import charge_opening, renew_service
from billow.billing.actions.resume import resume_paid_services
from billow.billing.actions.settings import set_client_billing_settings
from billow.billing.actions.staff_ops import (
    change_service_plan,
    create_service_for_client,
    delete_service_by_staff,
    renew_service_by_staff,
)

__all__ = [
    "change_addons",
    "change_service_plan",
    "change_tariff",
    "charge_opening",
    "create_service_for_client",
    "credit_charge",
    "delete_service",
    "delete_service_by_staff",
    "grant_promised_payment",
    "renew_service",
    "renew_service_by_staff",
    "resume_paid_services",
    "revoke_promised_payment",
    "set_client_billing_settings",
    "take_promised_payment",
]
