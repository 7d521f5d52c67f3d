"""Billing refusals. Codes are stable; callers match on them, never on message text.

- ``service_deleted``: the service is deleted (nothing can be charged, changed or renewed).
- ``service_not_billable``: the service is not open yet, or an operation runs on it.
- ``already_charged``: the opening period was already charged (``charge_opening`` replays return
  the expense instead; this is raised only when the service moved on meanwhile).
- ``insufficient_funds``: balance plus credit limit does not cover the amount.
- ``tariff_incompatible``: the new tariff belongs to another product type or provider.
- ``tariff_inactive``: the new tariff cannot be ordered any more.
- ``nothing_to_change``: the change would leave the service as it is.
- ``daily_not_renewable``: daily services are charged by the run, never renewed by hand.
- ``trial_not_renewable``: a service is renewed for a paid period, never for a trial.
- ``invalid_credit_limit`` / ``credit_limit_with_postpaid``: bad billing settings.
- ``reason_required``, ``invalid_credit_amount``, ``not_a_charge``, ``credit_exceeds_charge``:
  a staff credit without a reason, not positive, of something else than a charge, or of more
  than is left of the charge.
- ``invalid_credit_limit`` / ``credit_limit_with_postpaid``: bad billing settings;
  ``invalid_credit_terms``: negative respite or block-in days.
- promised payments (``PromisedPaymentError``): ``promised_payment_unavailable``,
  ``promised_payment_postpaid``, ``promised_payment_active``, ``promised_payment_unpaid``,
  ``promised_payment_too_soon``, ``promised_payment_not_active`` (nothing to revoke),
  ``invalid_promised_payment`` (a staff grant with a non-positive amount or days).
- pricing codes from the catalog pass through (``period_not_offered``,
  ``addon_value_out_of_range``, ``addon_step_mismatch``, ``addon_edit_forbidden``, ...).
"""

from __future__ import annotations

from billow.core.errors import ConflictError, ValidationError


class BillingError(ValidationError):
    code = "billing_error"


class InsufficientFundsError(BillingError):
    code = "insufficient_funds"


class BillingConflictError(ConflictError):
    code = "billing_conflict"


class PromisedPaymentError(BillingError):
    """A promised payment refused (codes in ``billing.terms.get_promise_offer`` and
    ``billing.actions.promised``)."""

    code = "promised_payment_refused"
