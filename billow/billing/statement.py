"""Statement sentences for the money a service moved (the ledger's ``services.service``
transactions): each one has an ``Expense`` under the same transaction, which says which service,
which days, and whether it was a charge, a refund or a credit and why (see
``billow.ledger.statement``). Two queries per page: the expenses with their services, and the
first charged day of those services (a service's first period reads "First period", later ones
"Renewal")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from django.db.models import Min
from django.utils.translation import gettext

from billow.billing.models import Expense, ExpenseKind, ExpenseReason
from billow.core.i18n import period_text
from billow.ledger.models import LedgerTransaction

K, R = ExpenseKind, ExpenseReason


def service_label(service_id: int, name: str, tariff_name: str) -> str:
    """How a statement names a service: its name (else its tariff's) and its number, which
    tells two services of one tariff apart."""
    return f"{name or tariff_name} #{service_id}"


def _sentences() -> dict[tuple[str, str], str]:
    """(expense kind, reason) -> sentence, in the active language."""
    return {
        (K.CHARGE, R.PERIOD): gettext("Renewal of %(service)s, %(period)s"),
        (K.CHARGE, R.UPGRADE): gettext("Tariff upgrade of %(service)s, %(period)s"),
        (K.CHARGE, R.ADDONS): gettext("Addon change of %(service)s, %(period)s"),
        (K.CREDIT, R.DOWNGRADE): gettext("Tariff downgrade credit for %(service)s, %(period)s"),
        (K.CREDIT, R.ADDONS): gettext("Addon reduction credit for %(service)s, %(period)s"),
        (K.REFUND, R.DELETION): gettext("Refund of the unused part of %(service)s, %(period)s"),
        (K.CREDIT, R.STAFF_CREDIT): gettext("Credit for %(service)s, %(period)s"),
    }


def describe_service_money(txns: Sequence[LedgerTransaction]) -> dict[int, str]:
    rows = list(
        Expense.objects.filter(transaction_id__in=[t.pk for t in txns]).values(
            "transaction_id",
            "key",
            "service_id",
            "kind",
            "reason",
            "period_from",
            "period_to",
            "service__name",
            "service__tariff__name",
        )
    )
    firsts = _first_charged_days({row["service_id"] for row in rows})
    sentences = _sentences()
    return {
        row["transaction_id"]: expense_sentence(row, firsts.get(row["service_id"]), sentences)
        for row in rows
    }


def _first_charged_days(service_ids: set[int]) -> dict[int, date]:
    if not service_ids:
        return {}
    charges = Expense.objects.filter(
        service_id__in=service_ids, kind=K.CHARGE, reason=R.PERIOD
    ).order_by()
    found = charges.values("service_id").annotate(first=Min("period_from"))
    return {row["service_id"]: row["first"] for row in found}


def expense_sentence(
    row: Mapping[str, Any],
    first_charged: date | None,
    sentences: dict[tuple[str, str], str] | None = None,
) -> str:
    """The sentence of one expense ``row`` (the values ``describe_service_money`` reads);
    ``first_charged``: the first day its service was charged for."""
    sentences = sentences or _sentences()
    kind, reason = row["kind"], row["reason"]
    values = {
        "service": service_label(
            row["service_id"], row["service__name"], row["service__tariff__name"]
        ),
        "period": period_text(row["period_from"], row["period_to"]),
    }
    if (kind, reason) == (K.CHARGE, R.PERIOD):
        if first_charged == row["period_from"]:
            return gettext("First period of %(service)s, %(period)s") % values
        if row["period_to"] - row["period_from"] == timedelta(days=1):
            return gettext("Daily charge for %(service)s, %(period)s") % values
    if kind == K.REFUND and row["key"].endswith(":unconfigured"):
        # orders.expiry: a quick order never configured gets its whole price back
        return gettext("Refund of %(service)s, not configured in time") % values
    text = sentences.get((kind, reason))
    if text is None:
        text = gettext("%(kind)s (%(reason)s) for %(service)s, %(period)s")
        values.update(kind=_label(K, kind), reason=_label(R, reason))
    return text % values


def _label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value
