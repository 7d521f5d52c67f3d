"""Invoicing reads."""

from __future__ import annotations

from collections.abc import Iterable

from billow.accounts.models import Payer
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


def list_provider_tax_rules(provider_id: int) -> tuple[TaxRuleInfo, ...]:
    """All active tax rules of ``provider_id`` (cached like ``list_tax_rules_for_payer``'s):
    empty means nothing it sells is taxed."""
    return tuple(
        catalog_cache.cached(("tax_rules", provider_id), lambda: _active_rules(provider_id))
    )


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


def get_document_payers(client_ids: Iterable[int]) -> dict[int, Payer]:
    """The payer a client's charges are taxed for and invoiced to: its first active payer (the
    client's own country when it has none). One query per ``PAYER_BATCH`` clients."""
    ids = sorted(set(client_ids))
    out: dict[int, Payer] = {}
    for start in range(0, len(ids), PAYER_BATCH):
        batch = ids[start : start + PAYER_BATCH]
        for payer in Payer.objects.filter(client_id__in=batch, is_active=True).order_by("-id"):
            out[payer.client_id] = payer  # the lowest id is seen last and kept
    return out


PAYER_BATCH = 900  # ids per IN list (SQLite's bound-parameter cap on older builds)
