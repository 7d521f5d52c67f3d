"""Invoicing reads."""

from __future__ import annotations

from collections.abc import Iterable

from billow.invoicing.models import Invoice, TaxRule
from billow.invoicing.tax import TaxRuleInfo, select_rules


def list_tax_rules_for_payer(
    *, provider_id: int, group_ids: Iterable[int], country: str, region: str = ""
) -> tuple[TaxRuleInfo, ...]:
    """The tax rules for a payer of ``provider_id`` (one query)."""
    rows = TaxRule.objects.filter(provider_id=provider_id, is_active=True)
    infos = [
        TaxRuleInfo(
            id=r.pk,
            name=r.name,
            rate=r.rate,
            included=r.included,
            product_type=r.product_type,
            country=r.country,
            region=r.region,
            client_group_id=r.client_group_id,
        )
        for r in rows
    ]
    return select_rules(infos, group_ids=group_ids, country=country, region=region)


def get_invoice_by_reference(reference: str) -> Invoice | None:
    return Invoice.objects.filter(reference=reference).order_by("-id").first()
