"""Billing's charge facts for the referral program (``marketing.referrals.feed``): what the
referrals were charged, net of tax, read in one query over the expenses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from billow.billing.models import Expense, ExpenseKind
from billow.marketing.referrals.feed import ChargeFact


def list_charge_facts(*, client_ids: Any, since: datetime, until: datetime) -> list[ChargeFact]:
    """Charges (net > 0), refunds and credits (net < 0) of ``client_ids`` created in
    ``[since, until)``, oldest first. Net = amount less the tax included in it."""
    rows = (
        Expense.objects.filter(
            client_id__in=client_ids, created_at__gte=since, created_at__lt=until
        )
        .order_by("created_at", "id")
        .values_list(
            "id",
            "client_id",
            "provider_id",
            "service_id",
            "kind",
            "amount_minor",
            "tax_minor",
            "tax_added_minor",
            "currency",
            "created_at",
            "period_from",
            "period_to",
        )
    )
    out = []
    for pk, client, provider, service, kind, amount, tax, added, cur, at, start, end in rows:
        net = int(amount) - (int(tax) - int(added))
        if not net:
            continue
        sign = 1 if kind == ExpenseKind.CHARGE else -1
        out.append(ChargeFact(pk, client, provider, service, sign * net, cur, at, start, end))
    return out
