"""The pure bonus rules: priority and stop-after, scopes, conditions, percent rounding, the
redemption plan capped by the balance, the request and the maximum share."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from billow.marketing.bonus.rules import (
    AmountKind,
    ChargeFacts,
    ChargeLine,
    Direction,
    RuleInfo,
    Scope,
    Trigger,
    net_points,
    plan_redemption,
    points_for_charge,
)

ON = date(2026, 1, 10)


def facts(
    *lines: ChargeLine, trigger: Trigger = Trigger.FIRST_PURCHASE, **kw: object
) -> ChargeFacts:
    values: dict[str, object] = {"minor_per_point": Decimal(1), "purchase_number": 1}
    values.update(kw)
    return ChargeFacts(trigger, "USD", tuple(lines), ON, **values)  # type: ignore[arg-type]


def pct(rule_id: int, percent: str, **kw: object) -> RuleInfo:
    return RuleInfo(
        rule_id,
        f"r{rule_id}",
        kw.pop("trigger", Trigger.FIRST_PURCHASE),  # type: ignore[arg-type]
        kind=AmountKind.PERCENT,
        percent=Decimal(percent),
        **kw,  # type: ignore[arg-type]
    )


def fixed(rule_id: int, points: int, **kw: object) -> RuleInfo:
    return RuleInfo(
        rule_id,
        f"r{rule_id}",
        kw.pop("trigger", Trigger.FIRST_PURCHASE),  # type: ignore[arg-type]
        points=points,
        **kw,  # type: ignore[arg-type]
    )


def test_rules_run_by_priority_and_stop_after_ends_the_evaluation() -> None:
    # given a 10% rule first that stops, a fixed 1000 after it, and a 5% rule before both
    rules = [
        pct(1, "10", priority=20, stop_after=True),
        fixed(2, 1000, priority=30),
        pct(3, "5", priority=10),
    ]
    # when a 100.00 first purchase is evaluated
    out = points_for_charge(rules, facts(ChargeLine("a", 10000)))
    # then 5% (priority 10) and 10% (priority 20) apply; the fixed rule is never reached
    assert [(o.rule_id, o.points) for o in out] == [(3, 500), (1, 1000)]
    assert net_points(out) == 1500


def test_percent_is_floored_per_line_and_by_the_value_of_a_point() -> None:
    # 7% of 12.99 = 90.93 cents; a point worth 2.5 cents -> 36.37 -> 36 points
    out = points_for_charge(
        [pct(1, "7")], facts(ChargeLine("a", 1299), minor_per_point=Decimal("2.5"))
    )
    assert out[0].points == 36
    # no value for the currency: a percent rule gives nothing
    assert (
        points_for_charge([pct(1, "7")], facts(ChargeLine("a", 1299), minor_per_point=None)) == []
    )


def test_scopes_pick_lines_and_fixed_points_are_split_by_amount() -> None:
    lines = (
        ChargeLine("vps", 3000, tariff_id=1, product_type="vps"),
        ChargeLine("web", 1000, tariff_id=2, product_type="hosting"),
    )
    by_type = fixed(1, 100, scope=Scope.PRODUCT_TYPES, product_types=frozenset({"vps"}))
    by_tariff = pct(2, "10", scope=Scope.TARIFFS, tariff_ids=frozenset({2}))
    every = fixed(3, 101)
    out = points_for_charge([by_type, by_tariff, every], facts(*lines))
    assert [(o.rule_id, o.per_line) for o in out] == [
        (1, {"vps": 100}),
        (2, {"web": 100}),
        (3, {"vps": 76, "web": 25}),
    ]


def test_conditions_trigger_groups_minimum_nth_purchase_and_period() -> None:
    line = ChargeLine("a", 5000)
    assert points_for_charge([fixed(1, 10, trigger=Trigger.RENEWAL)], facts(line)) == []
    assert points_for_charge([fixed(1, 10, group_ids=frozenset({7}))], facts(line)) == []
    assert (
        points_for_charge(
            [fixed(1, 10, group_ids=frozenset({7}))], facts(line, group_ids=frozenset({7, 8}))
        )[0].points
        == 10
    )
    assert (
        points_for_charge(
            [fixed(1, 10, min_amount_minor=5001, min_amount_currency="USD")], facts(line)
        )
        == []
    )
    assert (
        points_for_charge(
            [fixed(1, 10, min_amount_minor=5000, min_amount_currency="USD")], facts(line)
        )[0].points
        == 10
    )
    assert (
        points_for_charge(
            [fixed(1, 10, min_amount_minor=1, min_amount_currency="EUR")], facts(line)
        )
        == []
    )
    assert points_for_charge([fixed(1, 10, nth_purchase=2)], facts(line)) == []
    assert (
        points_for_charge([fixed(1, 10, nth_purchase=2)], facts(line, purchase_number=2))[0].points
        == 10
    )
    assert points_for_charge([fixed(1, 10, valid_from=date(2026, 1, 11))], facts(line)) == []
    assert points_for_charge([fixed(1, 10, valid_to=date(2026, 1, 9))], facts(line)) == []
    assert points_for_charge([fixed(1, 10, valid_to=ON)], facts(line))[0].points == 10


def test_deduction_rules_take_points() -> None:
    out = points_for_charge(
        [fixed(1, 300), fixed(2, 50, direction=Direction.DEDUCTION)], facts(ChargeLine("a", 1))
    )
    assert net_points(out) == 250


def test_redemption_is_capped_by_balance_request_and_share() -> None:
    plan = {"minor_per_point": Decimal(1), "max_share_percent": Decimal(15)}
    # the share: 15% of 100.00 = 15.00 = 1500 points, although 2000 are there
    p = plan_redemption(total_minor=10000, balance_points=2000, requested_points=None, **plan)
    assert (p.points, p.amount_minor) == (1500, 1500)
    # the request
    p = plan_redemption(total_minor=10000, balance_points=2000, requested_points=300, **plan)
    assert (p.points, p.amount_minor) == (300, 300)
    # the balance
    p = plan_redemption(total_minor=10000, balance_points=120, requested_points=None, **plan)
    assert (p.points, p.amount_minor) == (120, 120)
    # a point worth 2.5 cents: 15.00 / 2.5 = 600 points = 15.00
    p = plan_redemption(
        total_minor=10000,
        balance_points=5000,
        requested_points=None,
        minor_per_point=Decimal("2.5"),
        max_share_percent=Decimal(15),
    )
    assert (p.points, p.amount_minor) == (600, 1500)


@given(
    total=st.integers(0, 10**9),
    balance=st.integers(0, 10**7),
    requested=st.one_of(st.none(), st.integers(0, 10**7)),
    value=st.decimals(min_value=Decimal("0.01"), max_value=Decimal(1000), places=2),
    share=st.decimals(min_value=Decimal(0), max_value=Decimal(100), places=2),
)
def test_redemption_never_exceeds_balance_request_or_share(
    total: int, balance: int, requested: int | None, value: Decimal, share: Decimal
) -> None:
    p = plan_redemption(
        total_minor=total,
        balance_points=balance,
        requested_points=requested,
        minor_per_point=value,
        max_share_percent=share,
    )
    assert 0 <= p.points <= balance
    assert requested is None or p.points <= requested
    assert p.amount_minor * 100 <= total * share
    assert p.amount_minor <= p.points * value
