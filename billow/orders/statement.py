"""Statement sentences for an order's tax (the ledger's ``order`` transactions that touch the
client balance: tax added on top at checkout, ``<order>:tax``, and given back when an
unconfigured service is refunded, ``<order>:tax:refund:<service id>``). See
``billow.ledger.statement``; one query per page (the names of the refunded services)."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext

from billow.billing.statement import service_label
from billow.ledger.models import LedgerTransaction
from billow.services.models import Service


def _refunded_service(txn: LedgerTransaction) -> int | None:
    _head, sep, tail = txn.idempotency_key.rpartition(":tax:refund:")
    return int(tail) if sep and tail.isdigit() else None


def describe_order_tax(txns: Sequence[LedgerTransaction]) -> dict[int, str]:
    refunded = {t.pk: _refunded_service(t) for t in txns}
    ids = {s for s in refunded.values() if s is not None}
    names = {
        pk: service_label(pk, name, tariff)
        for pk, name, tariff in Service.objects.filter(pk__in=ids).values_list(
            "pk", "name", "tariff__name"
        )
    }
    out: dict[int, str] = {}
    for txn in txns:
        values = {"order": txn.reference_id, "service": names.get(refunded[txn.pk] or 0, "")}
        if ":tax_included" in txn.idempotency_key:
            continue  # moves revenue to tax payable: never on a client's statement
        if refunded[txn.pk] is not None:
            out[txn.pk] = gettext("Tax refund for %(service)s, order #%(order)s") % values
        elif txn.idempotency_key.endswith(":tax"):
            out[txn.pk] = gettext("Tax on order #%(order)s") % values
    return out
