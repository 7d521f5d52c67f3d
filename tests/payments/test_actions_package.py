"""``billow.payments.actions`` is one public API over its use-case modules."""

from __future__ import annotations

import billow.payments.actions as actions
from billow.payments.actions import creation, outcomes, saved_methods


def test_the_package_re_exports_every_public_action() -> None:
    assert sorted(actions.__all__) == [
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
    assert all(callable(getattr(actions, name)) for name in actions.__all__)


def test_the_re_exports_are_the_use_case_modules_functions() -> None:
    assert actions.create_payment is creation.create_payment
    assert actions.mark_payment_paid is outcomes.mark_payment_paid
    assert actions.remember_saved_method is saved_methods.remember_saved_method


def test_paying_still_resumes_services_through_billing_actions() -> None:
    # payments -> billing is the one seam by which a payment resumes suspended services.
    from billow.billing import actions as billing_actions

    assert outcomes.resume_paid_services is billing_actions.resume_paid_services
