"""The overage of metered addons, charged by the billing run (issue 14).

``usage.charges`` decides what the closed periods' overage costs beyond what was charged for
them; this module turns it into money items the run writes with its period charges (one
``write_money`` call: taxed by the same rules, on the same invoice as the run's other charges
for that client), each its own expense and invoice line (reason ``usage``). The usage app then
records what was charged, in the same transaction.
"""

from __future__ import annotations

from billow.billing.models import ExpenseKind, ExpenseReason
from billow.billing.selectors import service_labels
from billow.billing.wallet import MoneyItem
from billow.usage.charges import OverageRating


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
