"""The per-process configuration cache under the catalog token (billow.catalog.cache)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billow.catalog import cache
from billow.invoicing.models import TaxRule
from billow.invoicing.selectors import list_tax_rules_for_payer
from billow.marketing.promos.models import Promotion, PromotionCondition, PromotionDiscount
from billow.marketing.promos.rules import ClientFacts
from billow.marketing.promos.selectors import list_auto_promotions
from billow.services.models import ModuleInstance
from billow.services.selectors import pick_module_instance
from tests.orders.shop import Shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop() -> Shop:
    return Shop()


def _facts() -> ClientFacts:
    return ClientFacts(
        group_ids=frozenset(), registered_at=timezone.now(), paid_services=0, has_paid_order=False
    )


def _promotion(shop: Shop, **kw: object) -> Promotion:
    p = Promotion.objects.create(provider=shop.provider, name="Autumn", requires_code=False, **kw)
    PromotionDiscount.objects.create(promotion=p, target="all", kind="percent", percent=10)
    return p


def test_every_configuration_write_replaces_the_token(shop: Shop) -> None:
    writes = [
        lambda: shop.provider.save(),
        lambda: _promotion(shop),
        lambda: PromotionCondition.objects.create(
            promotion=Promotion.objects.get(name="Autumn"), kind="registered_days_min", value=1
        ),
        lambda: TaxRule.objects.create(provider=shop.provider, name="VAT", rate=Decimal("20")),
        lambda: ModuleInstance.objects.get(name="dummy-1").save(),
        lambda: ModuleInstance.objects.get(name="dummy-1").product_types.clear(),
    ]
    for write in writes:
        before = cache.current_token()
        write()
        assert cache.current_token() != before


def test_a_new_tax_rule_applies_at_once(shop: Shop) -> None:
    assert list_tax_rules_for_payer(provider_id=shop.provider.pk, group_ids=[], country="DE") == ()
    rule = TaxRule.objects.create(
        provider=shop.provider, name="VAT DE", country="DE", rate=Decimal("19")
    )
    found = list_tax_rules_for_payer(provider_id=shop.provider.pk, group_ids=[], country="DE")
    assert [r.id for r in found] == [rule.pk]
    rule.is_active = False
    rule.save()
    assert list_tax_rules_for_payer(provider_id=shop.provider.pk, group_ids=[], country="DE") == ()


def test_the_module_instance_choice_follows_a_deactivation(shop: Shop) -> None:
    instance = ModuleInstance.objects.get(name="dummy-1")
    assert pick_module_instance(shop.tariff) == instance
    instance.is_active = False
    instance.save()
    assert pick_module_instance(shop.tariff) is None


def test_auto_promotion_limits_are_read_live(shop: Shop) -> None:
    client = shop.client(balance=0, n=1)
    p = _promotion(shop, max_uses=1)
    now = timezone.now()
    found = list_auto_promotions(
        provider_id=shop.provider.pk, client=client, facts=_facts(), now=now
    )
    assert [x.id for x in found] == [p.pk]
    Promotion.objects.filter(pk=p.pk).update(uses=1)  # a counter move replaces no token
    assert (
        list_auto_promotions(provider_id=shop.provider.pk, client=client, facts=_facts(), now=now)
        == []
    )


def test_auto_promotion_dates_are_checked_per_call(shop: Shop) -> None:
    client = shop.client(balance=0, n=1)
    now = timezone.now()
    p = _promotion(shop, starts_at=now + timedelta(days=1))
    kwargs = {"provider_id": shop.provider.pk, "client": client, "facts": _facts()}
    assert list_auto_promotions(now=now, **kwargs) == []
    later = list_auto_promotions(now=now + timedelta(days=2), **kwargs)
    assert [x.id for x in later] == [p.pk]
