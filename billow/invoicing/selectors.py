"""Invoicing reads."""

from __future__ import annotations

from collections.abc import Iterable

from billow.catalog import cache as catalog_cache
from billow.invoicing.models import Invoice, TaxRule
from billow.invoicing.tax import TaxRuleInfo, select_rules


def list_tax_rules_for_payer(
    *, provider_id: int, group_ids: Iterable[int], country: str, region: str = ""
) -> tuple[TaxRuleInfo, ...]:
    """The tax rules for a payer of ``provider_id``. The provider's active rules are cached per
    process under the catalog token (every tax rule write replaces it)."""
    key = ("tax_rules", provider_id)
    infos = catalog_cache.cached(key, lambda: _active_rules(provider_id))
    return select_rules(list(infos), group_ids=group_ids, country=country, region=region)


def _active_rules(provider_id: int) -> tuple[TaxRuleInfo, ...]:
    rows = TaxRule.objects.filter(provider_id=provider_id, is_active=True)
    return tuple(
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
    )


def get_invoice_by_reference(reference: str) -> Invoice | None:
    return Invoice.objects.filter(reference=reference).order_by("-id").first()
