"""Tax rule selection (pure): personal rate, then group rules, then the provider's."""

from __future__ import annotations

from decimal import Decimal

from billow.invoicing.tax import TaxRuleInfo, select_rules

DE = TaxRuleInfo(id=1, name="VAT DE", rate=Decimal(19), included=False, country="DE")
GROUP = TaxRuleInfo(id=2, name="Resellers", rate=Decimal(0), included=False, client_group_id=7)
PERSONAL = TaxRuleInfo(id=3, name="Personal", rate=Decimal(7), included=False, client_id=42)
RULES = (DE, GROUP, PERSONAL)


def test_a_personal_rate_replaces_group_and_provider_rules() -> None:
    picked = select_rules(RULES, group_ids=[7], country="DE", region="", client_id=42)
    assert picked == (PERSONAL,)


def test_without_a_personal_rate_the_group_then_the_provider_rules_apply() -> None:
    assert select_rules(RULES, group_ids=[7], country="DE", region="", client_id=5) == (GROUP,)
    assert select_rules(RULES, group_ids=[], country="DE", region="", client_id=5) == (DE,)
    # another client's personal rate is never picked
    assert select_rules(RULES, group_ids=[], country="DE", region="") == (DE,)
