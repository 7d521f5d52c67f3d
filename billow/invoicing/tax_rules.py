"""Staff writes of tax rules (the staff API; issue 13.3).

A rule that taxed documents is part of their history, so rules are deactivated
(``is_active``), never deleted here. Refusals write nothing: ``invalid_tax_rule``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction

from billow.accounts.models import Provider
from billow.core.actors import Actor
from billow.core.journal import record_change, snapshot
from billow.invoicing.errors import InvoicingError
from billow.invoicing.models import TaxRule

TAX_RULE_MUTABLE = frozenset(
    {
        "name",
        "country",
        "region",
        "product_type",
        "rate",
        "included",
        "is_active",
        "client_group",
        "client",
    }
)


def _check(rule: TaxRule) -> None:
    if not Decimal(0) <= rule.rate <= Decimal(100):
        raise InvoicingError("a tax rate is between 0 and 100 %", code="invalid_tax_rule")
    if rule.country and not (len(rule.country) == 2 and rule.country.isalpha()):
        raise InvoicingError("a country is a two-letter code", code="invalid_tax_rule")
    if rule.client_id is not None and rule.client_group_id is not None:
        raise InvoicingError(
            "a rule is for one client or one client group, not both", code="invalid_tax_rule"
        )
    client = rule.client if rule.client_id is not None else None
    if client is not None and not client.providers.filter(pk=rule.provider_id).exists():
        raise InvoicingError("the client is not this provider's", code="invalid_tax_rule")


def create_tax_rule(
    *, provider: Provider, name: str, rate: Decimal, actor: Actor | None = None, **fields: Any
) -> TaxRule:
    """A tax rule of ``provider`` (``fields``: country, region, product_type, included,
    client_group, client)."""
    unknown = set(fields) - TAX_RULE_MUTABLE
    if unknown:
        raise InvoicingError(f"unknown fields {sorted(unknown)}", code="invalid_tax_rule")
    fields = {**fields, "country": str(fields.get("country", "")).upper()}
    rule = TaxRule(provider=provider, name=name, rate=rate, **fields)
    _check(rule)
    with transaction.atomic():
        rule.save()
        record_change(actor=actor, obj=rule, before=None, after=snapshot(rule))
    return rule


def update_tax_rule(*, rule: TaxRule, actor: Actor | None = None, **changes: Any) -> TaxRule:
    """Change a rule's fields (``is_active=False`` deactivates it); its provider is fixed."""
    unknown = set(changes) - TAX_RULE_MUTABLE
    if unknown:
        raise InvoicingError(f"cannot change {sorted(unknown)}", code="invalid_tax_rule")
    if "country" in changes:
        changes["country"] = str(changes["country"]).upper()
    checked = TaxRule.objects.get(pk=rule.pk)
    before = snapshot(checked)
    for key, value in changes.items():
        setattr(checked, key, value)
    _check(checked)
    with transaction.atomic():
        checked.save(update_fields=[*changes])
        record_change(actor=actor, obj=checked, before=before, after=snapshot(checked))
    return checked
