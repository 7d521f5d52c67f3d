"""Statement sentences for payments and refunds (the ledger's ``payments.payment`` and
``payments.refund`` transactions; see ``billow.ledger.statement``): one query per page each."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext

from billow.ledger.models import LedgerTransaction
from billow.payments.models import Payment, PaymentPurpose, Refund, RefundDestination


def describe_payments(txns: Sequence[LedgerTransaction]) -> dict[int, str]:
    wanted = {t.pk: int(t.reference_id) for t in txns if t.reference_id.isdigit()}
    found = Payment.objects.filter(pk__in=set(wanted.values())).values(
        "pk", "purpose", "reference", "method__name", "gateway_reference"
    )
    rows = {row["pk"]: row for row in found}
    out: dict[int, str] = {}
    for txn_id, payment_id in wanted.items():
        row = rows.get(payment_id)
        if row is None:
            continue
        values = {"method": row["method__name"], "order": row["reference"].partition(":")[2]}
        if row["purpose"] == PaymentPurpose.ORDER and row["reference"].startswith("order:"):
            text = gettext("Payment for order #%(order)s via %(method)s") % values
        else:
            text = gettext("Top-up via %(method)s") % values
        if row["gateway_reference"]:
            text = f"{text} ({row['gateway_reference']})"
        out[txn_id] = text
    return out


def describe_refunds(txns: Sequence[LedgerTransaction]) -> dict[int, str]:
    wanted = {
        t.pk: (int(t.reference_id), t.idempotency_key) for t in txns if t.reference_id.isdigit()
    }
    found = Refund.objects.filter(pk__in={r for r, _key in wanted.values()}).values(
        "pk", "payment_id", "destination", "payment__method__name"
    )
    rows = {row["pk"]: row for row in found}
    out: dict[int, str] = {}
    for txn_id, (refund_id, key) in wanted.items():
        row = rows.get(refund_id)
        if row is None:
            continue
        values = {"payment": row["payment_id"], "method": row["payment__method__name"]}
        if key.endswith(":reversal"):
            text = gettext(
                "Refund of payment #%(payment)s declined by the payment system, "
                "returned to the balance"
            )
        elif row["destination"] == RefundDestination.BALANCE:
            text = gettext("Refund of payment #%(payment)s to the balance")
        else:
            text = gettext("Refund of payment #%(payment)s via %(method)s")
        out[txn_id] = text % values
    return out
