"""The payments side of auto-payment: which clients have it on, and the charge itself.

Billing owns the decision (``billow.billing.autopay``: when and how much) and calls this through
the :class:`~billow.billing.autopay.AutoPayer` seam; ``PaymentsConfig.ready()`` registers
:data:`saved_method_auto_payer`. A method qualifies when it is the client's default, active,
has an auto-payment maximum, and its payment method is active and recurring-capable.
"""

from __future__ import annotations

from datetime import datetime

from billow.billing.autopay import AutoPayMethod, AutoPayResult, AutoPayStatus
from billow.billing.ranges import client_range
from billow.core.actors import Actor
from billow.core.errors import BillowError
from billow.core.money import Money, default_payment_maximum_minor
from billow.payments.actions import charge_saved_method
from billow.payments.models import Payment, SavedPaymentMethod
from billow.payments.states import PaymentStatus

AUTOPAY_ACTOR = Actor.job("auto_payment")

_STATUS = {
    PaymentStatus.PAID: AutoPayStatus.PAID,
    PaymentStatus.FAILED: AutoPayStatus.FAILED,
    PaymentStatus.CANCELLED: AutoPayStatus.FAILED,
}


class SavedMethodAutoPayer:
    """Charges the client's default saved method (``charge_saved_method(auto=True)``)."""

    def methods(self, client_from: int, client_to: int | None) -> list[AutoPayMethod]:
        qs = client_range(
            SavedPaymentMethod.objects.filter(
                is_default=True,
                is_active=True,
                auto_payment_max_minor__isnull=False,
                method__is_active=True,
                method__supports_recurring=True,
            ),
            client_from,
            client_to,
        )
        rows = qs.values_list(
            "id",
            "client_id",
            "method__provider_id",
            "method__currency",
            "method__min_amount_minor",
            "method__max_amount_minor",
            "auto_payment_max_minor",
        )
        return [
            AutoPayMethod(
                pk,
                client,
                provider,
                currency,
                int(low),
                int(min(limit, default_payment_maximum_minor(currency) if high is None else high)),
            )
            for pk, client, provider, currency, low, high, limit in rows
        ]

    def charge(
        self,
        method: AutoPayMethod,
        *,
        amount_minor: int,
        idempotency_key: str,
        reference: str,
        now: datetime,
    ) -> AutoPayResult:
        saved = SavedPaymentMethod.objects.select_related("method", "client").get(
            pk=method.saved_method_id
        )
        try:
            payment = charge_saved_method(
                saved_method=saved,
                amount=Money(amount_minor, method.currency),
                idempotency_key=idempotency_key,
                reference=reference,
                auto=True,
                actor=AUTOPAY_ACTOR,
                now=now,
            )
        except BillowError as exc:
            # A refusal writes nothing: there is no payment and the client is told why. But
            # when today's payment exists (made for another amount before the balance moved:
            # ``idempotency_key_reused``; or the gateway's answer could not be applied), its
            # status is the answer, never a second charge.
            found = Payment.objects.filter(idempotency_key=idempotency_key).first()
            if found is None:
                return AutoPayResult(AutoPayStatus.FAILED, code=exc.code)
            payment = found
        status = _STATUS.get(PaymentStatus(payment.status), AutoPayStatus.PENDING)
        code = payment.failure_code if status == AutoPayStatus.FAILED else ""
        return AutoPayResult(status, payment.pk, code)


saved_method_auto_payer = SavedMethodAutoPayer()
