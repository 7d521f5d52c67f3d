"""The overage of metered addons, charged by the billing run (issue 14).

``usage.charges`` decides what the closed periods' overage costs beyond what was charged for
them; this module turns it into money items the run writes with its period charges (one
``write_money`` call: taxed by the same rules, on the same invoice as the run's other charges
for that client), each its own expense and invoice line (reason ``usage``). The usage app then
records what was charged, in the same transaction.
"""

from __future__ import annotations

import functools
from datetime import date

from billow.billing.models import BillingRun, ExpenseKind, ExpenseReason, RunStatus
from billow.billing.selectors import service_labels
from billow.billing.wallet import MoneyItem
from billow.usage.charges import OverageRating, list_overage_charges


def rate_chunk(*, day: date, client_from: int, client_to: int | None) -> OverageRating:
    """The overage the run of ``day`` charges to the clients ``[client_from, client_to)``:
    the periods closed since the last run done before it (the usage app's rating)."""
    return list_overage_charges(
        day=day,
        client_from=client_from,
        client_to=client_to,
        last_run=functools.partial(last_run_day, day),
    )


def last_run_day(day: date) -> date | None:
    return (
        BillingRun.objects.filter(date__lt=day, status=RunStatus.DONE)
        .order_by("-date")
        .values_list("date", flat=True)
        .first()
    )


def overage_items(rating: OverageRating) -> list[MoneyItem]:
    """One charge per service, meter and period, named "<service> — <addon>" on the invoice."""
    if not rating.charges:
        return []
    labels = service_labels({c.service_id for c in rating.charges})
    return [
        MoneyItem(
            c.service_id,
            (c.client_id, c.provider_id, c.currency),
            ExpenseKind.CHARGE,
            ExpenseReason.USAGE,
            c.key,
            c.period_from,
            c.period_to,
            c.amount_minor,
            description=c.description,
            label=f"{labels.get(c.service_id, '')} — {c.name}",
        )
        for c in rating.charges
    ]
