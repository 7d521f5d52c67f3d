"""Promotions: conditions (OR inside a group, AND across), code checks, reservations, limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from billow.core.errors import BillowError
from billow.marketing.promos.actions import (
    confirm_promo_uses,
    create_promo_code,
    release_promo_uses,
    reserve_promo_use,
)
from billow.marketing.promos.models import PromoCode, PromoCodeUse, PromotionCondition
from billow.marketing.promos.rules import ClientFacts, ConditionInfo, conditions_hold
from billow.marketing.promos.selectors import check_promo_code, get_client_facts
from tests.orders.shop import T0, Shop, db_counts

NOW = datetime(2027, 3, 10, tzinfo=UTC)


def facts(
    groups: set[int] = frozenset(),
    age_days: int = 10,
    paid: int = 0,  # type: ignore[assignment]
    ordered: bool = False,
) -> ClientFacts:
    return ClientFacts(frozenset(groups), NOW - timedelta(days=age_days), paid, ordered)


def test_conditions_or_inside_a_group_and_across_groups() -> None:
    # (group 5 OR group 6) AND (registered >= 365 days OR >= 2 paid services) AND first order
    conds = [
        ConditionInfo("client_group", 1, group_id=5),
        ConditionInfo("client_group", 1, group_id=6),
        ConditionInfo("registered_days_min", 2, value=365),
        ConditionInfo("paid_services_min", 2, value=2),
        ConditionInfo("first_order"),
    ]
    assert conditions_hold(conds, facts({6}, age_days=400), NOW)
    assert conditions_hold(conds, facts({5}, paid=2), NOW)
    assert not conditions_hold(conds, facts({7}, age_days=400), NOW)  # no group matches
    assert not conditions_hold(conds, facts({5}, age_days=10, paid=1), NOW)  # group 2 fails
    assert not conditions_hold(conds, facts({5}, age_days=400, ordered=True), NOW)
    assert conditions_hold([], facts(), NOW)


@pytest.mark.django_db
def test_code_checks_and_refusals(shop: Shop) -> None:
    promo = shop.promotion("10", ends_at=T0 + timedelta(days=1), first_order_only=True)
    create_promo_code(promotion=promo, code="Welcome", max_uses_per_client=1)
    client = shop.client()
    client.created_at = T0 - timedelta(days=5)
    client.save()
    f = get_client_facts(client, has_paid_order=False)
    kw: dict[str, Any] = {"provider_id": shop.provider.pk, "client": client, "facts": f}
    assert check_promo_code(code=" welcome ", now=T0, **kw).code == "WELCOME"
    refusals = [
        ({"code": "nope", "now": T0}, "promo_code_not_found"),
        ({"code": "WELCOME", "now": T0 + timedelta(days=2)}, "promo_code_expired"),
        (
            {"code": "WELCOME", "now": T0, "facts": get_client_facts(client, has_paid_order=True)},
            "promo_code_first_order_only",
        ),
    ]
    for args, code in refusals:
        with pytest.raises(BillowError) as exc:
            check_promo_code(**{**kw, **args})
        assert exc.value.code == code
    PromotionCondition.objects.create(promotion=promo, kind="registered_days_min", value=30)
    with pytest.raises(BillowError) as exc:
        check_promo_code(code="WELCOME", now=T0, **kw)
    assert exc.value.code == "promo_code_not_applicable"


@pytest.mark.django_db
def test_reserve_confirm_release_and_limits(shop: Shop) -> None:
    promo = shop.promotion("10")
    code = create_promo_code(promotion=promo, code="TWO", max_uses=2, max_uses_per_client=1)
    ann, bob, cid = shop.client(n=1), shop.client(n=2), shop.client(n=3)
    args: dict[str, Any] = {
        "promotion_id": promo.pk,
        "code_id": code.pk,
        "discount_minor": 100,
        "currency": "USD",
    }
    reserve_promo_use(client=ann, reference="order:1", **args)
    assert reserve_promo_use(client=ann, reference="order:1", **args).reference == "order:1"
    before = db_counts()
    with pytest.raises(BillowError) as exc:
        reserve_promo_use(client=ann, reference="order:2", **args)
    assert exc.value.code == "promo_code_client_limit"
    assert db_counts() == before and PromoCode.objects.get().uses == 1
    reserve_promo_use(client=bob, reference="order:3", **args)
    with pytest.raises(BillowError) as exc:
        reserve_promo_use(client=cid, reference="order:4", **args)
    assert exc.value.code == "promo_code_exhausted"
    assert PromoCode.objects.get().uses == 2
    assert confirm_promo_uses(reference="order:1") == 1
    assert release_promo_uses(reference="order:3") == 1
    assert release_promo_uses(reference="order:3") == 0
    assert PromoCode.objects.get().uses == 1
    reserve_promo_use(client=cid, reference="order:4", **args)
    assert sorted(PromoCodeUse.objects.values_list("reference", "status")) == [
        ("order:1", "confirmed"),
        ("order:3", "released"),
        ("order:4", "reserved"),
    ]


@pytest.mark.django_db
def test_create_promo_code_refusals(shop: Shop) -> None:
    promo = shop.promotion()
    create_promo_code(promotion=promo, code="ABC")
    for text, code in (("abc", "promo_code_taken"), ("a b!", "invalid_promo_code")):
        with pytest.raises(BillowError) as exc:
            create_promo_code(promotion=promo, code=text)
        assert exc.value.code == code
    assert PromoCode.objects.count() == 1
