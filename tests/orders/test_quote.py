"""The quote, pure: exact amounts, discounts, stacking, tax rounding, conversion, properties."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from billow.catalog.pricing import AddonInfo, PeriodPrice, TariffInfo
from billow.catalog.rates import RateQuote
from billow.core.money import Money
from billow.invoicing.tax import TaxRuleInfo
from billow.marketing.promos.rules import DiscountInfo, PromotionInfo
from billow.orders.quote import QuoteInput, QuoteItemInput, calculate_quote


def tariff(
    price: int = 1000,
    setup: int = 0,
    cpu_price: int = 300,
    currency: str = "USD",
    product_type: str = "vps",
) -> TariffInfo:
    cpu = AddonInfo(
        intname="cpu",
        name="CPU",
        unit="vCPU",
        value_type="int",
        billing_type="on_order",
        included=1,
        min_value=1,
        max_value=16,
        monthly_unit_price_minor=cpu_price,
    )
    return TariffInfo(
        id=7,
        name="VPS-S",
        currency=currency,
        provider_id=1,
        product_type=product_type,
        status="active",
        billing_mode="anniversary",
        prorata_day=1,
        trial_days=0,
        order_limit=None,
        prices={"1m": PeriodPrice(price, setup), "12m": PeriodPrice(price * 10, 0)},
        addons=(cpu,),
    )


def item(key: str = "a", cpu: int = 1, period: str = "1m", **kw: object) -> QuoteItemInput:
    return QuoteItemInput(
        key=key,
        tariff=kw.pop("info", tariff()),
        period=period,  # type: ignore[arg-type]
        addon_values={"cpu": cpu},
        **kw,
    )  # type: ignore[arg-type]


def pct(
    pid: int, p: str, target: str = "all", stackable: bool = False, code: str = "", **kw: object
) -> PromotionInfo:
    d = DiscountInfo(target=target, kind="percent", percent=Decimal(p), **kw)  # type: ignore[arg-type]
    return PromotionInfo(id=pid, name=f"P{pid}", stackable=stackable, discounts=(d,), code=code)


def fixed(pid: int, amount: int, target: str = "all", stackable: bool = False) -> PromotionInfo:
    d = DiscountInfo(target=target, kind="fixed", amount_minor=amount, currency="USD")
    return PromotionInfo(id=pid, name=f"F{pid}", stackable=stackable, discounts=(d,))


VAT20 = TaxRuleInfo(id=1, name="VAT", rate=Decimal(20), included=False)


def test_list_price_lines_with_reasons_and_totals() -> None:
    # given a 10.00 tariff with a 5.00 setup fee and 3 CPUs (1 included, 3.00 each)
    q = calculate_quote(QuoteInput("USD", (item(cpu=3, info=tariff(setup=500)),)))
    # then tariff 10.00 + setup 5.00 + CPU 2 x 3.00 = 21.00
    assert [(x.kind, x.gross.amount_minor) for x in q.lines] == [
        ("tariff", 1000),
        ("setup", 500),
        ("addon", 600),
    ]
    assert q.lines[2].reason == "3 vCPU, 1 included, 2 x 3.00 USD"
    assert (q.subtotal, q.discount, q.tax, q.total, q.amount_due) == (
        Money(2100, "USD"),
        Money(0, "USD"),
        Money(0, "USD"),
        Money(2100, "USD"),
        Money(2100, "USD"),
    )
    assert q.totals == {"USD": Money(2100, "USD")}


def test_percent_discount_on_tariff_line_only() -> None:
    q = calculate_quote(QuoteInput("USD", (item(cpu=3),), promotions=(pct(1, "15", "tariff"),)))
    assert [x.net.amount_minor for x in q.lines] == [850, 600]
    assert q.discount == Money(150, "USD")
    assert q.lines[0].discount_reasons == ("P1: -150 (15%)",)
    assert [(p.promotion_id, p.amount.amount_minor) for p in q.promotions] == [(1, 150)]


def test_fixed_discount_never_makes_a_line_negative() -> None:
    q = calculate_quote(QuoteInput("USD", (item(cpu=2),), promotions=(fixed(1, 5000),)))
    assert [x.net.amount_minor for x in q.lines] == [0, 0]
    assert q.total == Money(0, "USD")
    assert q.discount == Money(1300, "USD")


def test_period_and_addon_targets() -> None:
    yearly = pct(1, "10", "period", period="12m")
    addon = pct(2, "50", "addon", stackable=True, addon="cpu")
    q1 = calculate_quote(QuoteInput("USD", (item(cpu=2),), promotions=(yearly,)))
    assert q1.discount.amount_minor == 0 and q1.promotions == ()
    q12 = calculate_quote(QuoteInput("USD", (item(cpu=2, period="12m"),), promotions=(yearly,)))
    assert [x.net.amount_minor for x in q12.lines] == [9000, 3240]  # 10000-10%, 3600-10%
    q_addon = calculate_quote(QuoteInput("USD", (item(cpu=2),), promotions=(addon,)))
    assert [x.net.amount_minor for x in q_addon.lines] == [1000, 150]


def test_stackable_promotions_apply_one_after_the_other() -> None:
    promos = (pct(1, "10", stackable=True), pct(2, "10", stackable=True))
    q = calculate_quote(QuoteInput("USD", (item(),), promotions=promos))
    assert q.lines[0].net.amount_minor == 810  # 1000 -100 -90


def test_non_stackable_best_single_option_wins() -> None:
    # stackables give 10% + 10% = 190; the non-stackable 25% gives 250 -> it wins alone
    promos = (pct(1, "10", stackable=True), pct(2, "10", stackable=True), pct(3, "25"))
    q = calculate_quote(QuoteInput("USD", (item(),), promotions=promos))
    assert q.lines[0].net.amount_minor == 750
    assert [p.promotion_id for p in q.promotions] == [3]


def test_tax_added_per_line_three_lines_rounding_policy() -> None:
    # given three items of 0.10 each at 5 % added tax
    info = tariff(price=10, cpu_price=0)
    rule = TaxRuleInfo(id=1, name="VAT", rate=Decimal(5), included=False)
    items = tuple(item(key=k, info=info) for k in "abc")
    q = calculate_quote(QuoteInput("USD", items, tax_rules=(rule,)))
    # then each tariff line carries round_half_up(0.5) = 1 cent: 3 cents, not 2 (per document)
    assert [x.tax.amount_minor for x in q.lines if x.kind == "tariff"] == [1, 1, 1]
    assert q.tax == Money(3, "USD")
    assert q.total == Money(33, "USD")
    assert q.tax_lines[0].amount == Money(3, "USD")


def test_tax_included_does_not_change_the_total() -> None:
    rule = TaxRuleInfo(id=1, name="VAT", rate=Decimal(20), included=True)
    q = calculate_quote(QuoteInput("USD", (item(info=tariff(price=1200)),), tax_rules=(rule,)))
    assert q.lines[0].tax == Money(200, "USD")  # 1200 x 20/120
    assert q.total == Money(1200, "USD")
    assert q.tax_lines[0].included is True


def test_tax_follows_the_discounted_net_and_product_specific_rules() -> None:
    s3_rule = TaxRuleInfo(id=2, name="S3 tax", rate=Decimal(10), included=False, product_type="s3")
    q = calculate_quote(
        QuoteInput("USD", (item(),), promotions=(pct(1, "50"),), tax_rules=(VAT20, s3_rule))
    )
    assert q.lines[0].net == Money(500, "USD")
    assert q.lines[0].tax == Money(100, "USD")
    q_s3 = calculate_quote(
        QuoteInput("USD", (item(info=tariff(product_type="s3")),), tax_rules=(VAT20, s3_rule))
    )
    assert q_s3.lines[0].tax == Money(100, "USD")  # 10 % only: the specific rule wins


def test_currency_conversion_and_opening_share() -> None:
    rate = RateQuote("EUR", "USD", Decimal("1.1"), False, date(2027, 1, 1), None)
    info = tariff(price=1000, currency="EUR", setup=100)
    q = calculate_quote(QuoteInput("USD", (item(info=info, rate=rate, fraction=Fraction(1, 2)),)))
    assert [x.gross.amount_minor for x in q.lines] == [550, 110, 0]
    assert "opening share 1/2" in q.lines[0].reason and "converted" in q.lines[0].reason


def test_bonus_hook_reduces_amount_due_only() -> None:
    q = calculate_quote(QuoteInput("USD", (item(),), bonus_redemption=lambda t: Money(300, "USD")))
    assert (q.total.amount_minor, q.bonus.amount_minor, q.amount_due.amount_minor) == (
        1000,
        300,
        700,
    )


@given(
    price=st.integers(0, 10**7),
    cpu=st.integers(1, 16),
    percents=st.lists(st.decimals(Decimal("0.01"), Decimal(100), places=2), max_size=3),
    fixed_amount=st.integers(1, 10**6),
    stack=st.booleans(),
    rate=st.decimals(Decimal(0), Decimal(30), places=3),
    included=st.booleans(),
)
def test_quote_properties(
    price: int,
    cpu: int,
    percents: list[Decimal],
    fixed_amount: int,
    stack: bool,
    rate: Decimal,
    included: bool,
) -> None:
    promos = tuple(pct(i, str(p), stackable=stack) for i, p in enumerate(percents, 1))
    promos += (fixed(99, fixed_amount, "tariff", stackable=stack),)
    rule = TaxRuleInfo(id=1, name="T", rate=rate, included=included)
    q = calculate_quote(
        QuoteInput(
            "USD", (item(cpu=cpu, info=tariff(price=price)),), promotions=promos, tax_rules=(rule,)
        )
    )
    assert q.total.amount_minor == sum(x.total.amount_minor for x in q.lines)
    for x in q.lines:
        assert 0 <= x.net.amount_minor <= x.gross.amount_minor
        assert x.net.amount_minor == x.gross.amount_minor - x.discount.amount_minor
        assert x.total.amount_minor == x.net.amount_minor + x.tax_added.amount_minor
    assert q.discount.amount_minor == sum(p.amount.amount_minor for p in q.promotions)
