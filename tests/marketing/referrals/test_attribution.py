"""Programs and who brought whom: the template refusal, joining, clicks, sign-up attribution,
manual link / unlink; refusals write nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from billow.accounts.models import ClientGroup, ClientGroupMembership
from billow.core.errors import BillowError
from billow.marketing.promos.models import PromoCode, Promotion
from billow.marketing.referrals.attribution import (
    attribute_signup,
    join_referral_program,
    link_referral,
    partner_link,
    register_click,
    unlink_referral,
)
from billow.marketing.referrals.models import (
    Referral,
    ReferralClick,
    ReferralEvent,
    ReferralPartner,
    ReferralProgram,
)
from billow.marketing.referrals.programs import create_legacy_program
from tests.billing.world import at
from tests.marketing.referrals.world import ReferralWorld

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    return {
        m.__name__: m.objects.count()
        for m in (
            ReferralProgram,
            ReferralPartner,
            Referral,
            ReferralClick,
            ReferralEvent,
            Promotion,
            PromoCode,
        )
    }


def refused(fn: Any, code: str, **kwargs: Any) -> None:
    before = counts()
    with pytest.raises(BillowError) as exc:
        fn(**kwargs)
    assert exc.value.code == code
    assert counts() == before


def test_a_template_without_the_id_macro_is_refused_and_writes_nothing() -> None:
    world = ReferralWorld()
    refused(
        world.program,
        "referral_template_needs_id",
        promo_code_template="FRIEND",
        referral_discount_percent=Decimal(5),
    )
    refused(
        world.program,
        "invalid_referral_program",
        promo_code_template="F@ID@",
        referral_discount_percent=Decimal(0),
    )
    refused(
        world.program,
        "invalid_referral_program",
        starts_on=date(2025, 2, 1),
        ends_on=date(2025, 1, 1),
    )


def test_one_automatic_program_per_provider() -> None:
    world = ReferralWorld()
    world.program(assign_automatically=True)
    refused(
        world.program, "referral_program_automatic_taken", assign_automatically=True, name="Other"
    )


def test_a_partner_gets_its_code_and_link_once() -> None:
    world = ReferralWorld()
    program = world.program(promo_code_template="hi-@ID@", referral_discount_percent=Decimal(5))
    partner = world.partner(program)
    assert partner_link(partner) == f"https://host.example/?from={partner.pk}"
    assert partner.promo_code is not None and partner.promo_code.code == f"HI-{partner.pk}"
    again = join_referral_program(client=partner.client, program=program)
    assert again.pk == partner.pk and PromoCode.objects.count() == 1


def test_groups_forbid_taking_part() -> None:
    world = ReferralWorld()
    program = world.program()
    group = ClientGroup.objects.create(name="resellers", referral_participation="forbid")
    client = world.client()
    ClientGroupMembership.objects.create(client=client, group=group)
    refused(join_referral_program, "referral_not_allowed", client=client, program=program)
    blocked = ClientGroup.objects.create(name="blocked")
    program.forbidden_groups.add(blocked)
    other = world.client()
    ClientGroupMembership.objects.create(client=other, group=blocked)
    refused(join_referral_program, "referral_not_allowed", client=other, program=program)


def test_a_click_from_an_external_site_is_passed_on_sign_up() -> None:
    world = ReferralWorld()
    program = world.program()
    partner = world.partner(program)
    click = register_click(url=f"https://host.example/?from={partner.pk}", ip="203.0.113.5")
    assert len(click.token) == 32
    newcomer = world.client()
    referral = attribute_signup(client=newcomer, click_token=click.token, now=at(date(2025, 2, 1)))
    assert referral is not None
    assert (referral.partner_id, referral.source, referral.click_id) == (
        partner.pk,
        "link",
        click.pk,
    )
    assert referral.source_detail == f"https://host.example/?from={partner.pk}"


def test_a_click_must_match_the_website_url() -> None:
    world = ReferralWorld()
    partner = world.partner(world.program())
    refused(
        register_click,
        "referral_click_url_mismatch",
        url=f"https://evil.example/?from={partner.pk}",
    )
    refused(register_click, "referral_partner_not_found", url="https://host.example/?from=999999")
    refused(register_click, "referral_partner_not_found", url="https://host.example/")


def test_sign_up_joins_the_automatic_program_and_ignores_unknown_partners() -> None:
    world = ReferralWorld()
    program = world.program(assign_automatically=True, referral_period_months=3)
    newcomer = world.client()
    newcomer.providers.add(world.provider)
    assert attribute_signup(client=newcomer, partner_id=987654) is None
    assert ReferralPartner.objects.filter(client=newcomer, program=program).exists()
    brought = world.client()
    brought.providers.add(world.provider)
    partner = ReferralPartner.objects.get(client=newcomer)
    referral = attribute_signup(client=brought, partner_id=partner.pk, now=at(date(2025, 1, 31)))
    assert referral is not None and referral.reward_until == at(date(2025, 4, 30), 12)


def test_manual_link_and_unlink_need_a_reason_and_keep_the_history() -> None:
    world = ReferralWorld()
    partner = world.partner(world.program())
    client = world.client()
    refused(link_referral, "reason_required", client=client, partner=partner, reason=" ")
    refused(link_referral, "referral_self", client=partner.client, partner=partner, reason="x")
    link_referral(client=client, partner=partner, reason="phone call")
    refused(link_referral, "referral_exists", client=client, partner=partner, reason="again")
    unlink_referral(client=client, reason="fraud")
    refused(unlink_referral, "referral_not_linked", client=client, reason="again")
    types = list(ReferralEvent.objects.order_by("id").values_list("type", flat=True))
    assert types[-2:] == ["referral.linked", "referral.unlinked"]
    assert Referral.objects.get(client=client).source == "manual"


def test_an_old_style_program_is_one_percent_rule() -> None:
    world = ReferralWorld()
    program = create_legacy_program(
        provider=world.provider,
        name="Affiliates",
        currency="USD",
        percent=Decimal(15),
        starts_on=date(2025, 1, 1),
    )
    (rule,) = program.rules.all()
    assert (rule.accrual_type, rule.percent, rule.moment, rule.frequency, rule.condition) == (
        "percent",
        Decimal(15),
        "on_charge",
        "every",
        "always",
    )


def test_the_daily_job_is_one_query_without_a_program(django_assert_num_queries: Any) -> None:
    from billow.marketing.referrals.daily import run_referral_day

    with django_assert_num_queries(1):
        assert run_referral_day(day=date(2025, 2, 1)) == {"programs": 0}


def test_charges_outside_the_program_dates_or_currency_earn_nothing() -> None:
    # given a program running 1-31 January and a referral with a service renewed on 10 Feb
    world = ReferralWorld()
    program = world.program(starts_on=date(2025, 1, 15), ends_on=date(2025, 1, 31))
    world.rule(program)
    partner = world.partner(program)
    vps = world.tariff("VPS", {"1m": 3000})
    client = world.referral(partner, date(2025, 1, 2))
    world.service(client, vps, date(2025, 1, 10))  # before the start
    world.service(client, vps, date(2025, 1, 20))  # inside
    world.bill(date(2025, 2, 10))  # after the end
    world.bill(date(2025, 2, 20))
    world.run(date(2025, 3, 1))
    # then only the 20 January charge earned; the three charges since the program started
    # count in the partner's figures (the job never reads charges from before the start)
    assert world.rewards(partner) == [(date(2025, 1, 20), 300)]
    from billow.marketing.referrals.selectors import list_referral_rows

    (row,) = list_referral_rows(Referral.objects.filter(partner=partner))
    assert (row.total_charges_minor, row.paid_minor) == (9000, 300)
    assert (row.first_purchase, row.last_purchase) == (
        at(date(2025, 1, 20)),
        at(date(2025, 2, 20), 0),
    )
