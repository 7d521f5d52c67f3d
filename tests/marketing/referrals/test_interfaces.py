"""The partner page, the click endpoint, sign-up through a link, the API and the staff pages."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from django.test import Client as HttpClient
from rest_framework.test import APIClient

from billow.accounts.models import Client
from billow.marketing.referrals.models import (
    Referral,
    ReferralClick,
    ReferralPartner,
    ReferralPayout,
)
from tests.api.conftest import Tenant, _clear_throttle_cache, staff_user, tenant_a, tenant_b
from tests.billing.world import at
from tests.marketing.referrals.world import ReferralWorld
from tests.web.conftest import PASSWORD, WebWorld, web

__all__ = ["_clear_throttle_cache", "staff_user", "tenant_a", "tenant_b", "web"]

D = date


def _program_for(world: Any) -> Any:
    program = ReferralWorld.program(world, website_url="http://testserver/")  # type: ignore[arg-type]
    ReferralWorld.rule(program)
    return program


def test_partner_page_shows_link_code_clicks_referrals_and_months(web: WebWorld) -> None:
    # given client A is a partner with one referral charged in January
    program = ReferralWorld.program(
        web.world,  # type: ignore[arg-type]
        website_url="https://host.example/",
        promo_code_template="A@ID@",
        referral_discount_percent=Decimal(5),
    )
    ReferralWorld.rule(program)
    partner = ReferralPartner.objects.create(
        program=program, client=web.a.client, joined_at=at(D(2025, 1, 1))
    )
    from billow.marketing.referrals.attribution import link_referral
    from billow.marketing.referrals.daily import run_referral_day

    link_referral(client=web.b.client, partner=partner, reason="test", now=at(D(2025, 1, 1)))
    web.world.service(web.b.client, web.tariff, D(2025, 1, 15))
    run_referral_day(day=D(2025, 2, 1), now=at(D(2025, 2, 1), 0))
    # when A opens the page
    page = web.a.http.get("/referrals/").content.decode()
    # then it shows the link, the referral's figures and January's paid reward
    assert f"https://host.example/?from={partner.pk}" in page
    assert f"#{web.b.client.pk}" in page
    assert "2025-01" in page
    # (B's own 10.00 service of 10 January counts too: two charges, 2.00 paid on 1 February)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert "Jan 10, 2025 Jan 15, 2025 $20.00 $2.00" in text
    assert "2025-01 $2.00 $2.00 $0.00" in text


def test_a_client_takes_part_from_the_page(web: WebWorld) -> None:
    program = _program_for(web.world)
    response = web.a.http.post("/referrals/join/", {"program": program.pk})
    assert response.status_code == 302
    assert ReferralPartner.objects.filter(client=web.a.client, program=program).count() == 1


def test_a_user_without_billing_rights_cannot_open_the_page(web: WebWorld) -> None:
    assert web.limited_http.get("/referrals/").status_code in (302, 403)


def test_the_click_endpoint_returns_a_click_id(web: WebWorld) -> None:
    program = _program_for(web.world)
    partner = ReferralPartner.objects.create(program=program, client=web.a.client)
    link = f"http://testserver/?from={partner.pk}"
    response = HttpClient().get("/referrals/click/", {"p": link})
    assert response.status_code == 200
    token = response.json()["click_id"]
    assert ReferralClick.objects.get(token=token).partner_id == partner.pk
    bad = HttpClient().post("/referrals/click/", {"p": "https://other.example/?from=1"})
    assert bad.status_code in (400, 404)
    assert bad.json()["code"] in ("referral_click_url_mismatch", "referral_partner_not_found")


def test_sign_up_after_a_referral_link_is_that_partners_referral(web: WebWorld) -> None:
    # given a visitor who arrives through client A's link
    program = _program_for(web.world)
    partner = ReferralPartner.objects.create(program=program, client=web.a.client)
    browser = HttpClient()
    browser.get(f"/accounts/signup/?from={partner.pk}")
    # when it signs up
    browser.post(
        "/accounts/signup/",
        {"email": "friend@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    # then the new client is A's referral by link, and the visit counted as a click
    client = Client.objects.get(email="friend@example.com")
    referral = Referral.objects.get(client=client)
    assert (referral.partner_id, referral.source) == (partner.pk, "link")
    assert referral.click is not None and referral.click.partner_id == partner.pk


def test_api_partner_view_and_join(tenant_a: Tenant) -> None:
    program = _program_for(tenant_a.world)
    api = tenant_a.api(["billing:read", "billing:write"])
    assert api.get("/api/v1/referrals/").json() == []
    joined = api.post("/api/v1/referrals/", {"program_id": program.pk}, format="json")
    assert joined.status_code == 201
    body = joined.json()
    assert body["link"] == f"http://testserver/?from={body['partner_id']}"
    assert (
        body["unpaid"] == {"amount_minor": 0, "currency": "USD", "amount": "0.00"}
        or body["unpaid"]["amount_minor"] == 0
    )
    listed = api.get("/api/v1/referrals/").json()
    assert [p["partner_id"] for p in listed] == [body["partner_id"]]


def test_api_staff_program_rule_link_and_payouts(
    staff_user: Any, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    api = APIClient()
    api.force_authenticate(staff_user)
    created = api.post(
        "/api/v1/staff/referral-programs/",
        {
            "provider_id": tenant_a.world.provider.pk,
            "name": "API program",
            "currency": "USD",
            "starts_on": "2025-01-01",
            "promo_code_template": "NOID",
            "referral_discount_percent": "5",
        },
        format="json",
    )
    assert created.status_code == 400 and created.json()["code"] == "referral_template_needs_id"
    created = api.post(
        "/api/v1/staff/referral-programs/",
        {
            "provider_id": tenant_a.world.provider.pk,
            "name": "API program",
            "currency": "USD",
            "starts_on": "2025-01-01",
        },
        format="json",
    )
    assert created.status_code == 201
    program_id = created.json()["id"]
    rule = api.post(
        "/api/v1/staff/referral-rules/",
        {"program_id": program_id, "accrual_type": "percent", "percent": "10"},
        format="json",
    )
    assert rule.status_code == 201 and rule.json()["moment"] == "on_charge"
    from billow.marketing.referrals.models import ReferralProgram

    partner = ReferralPartner.objects.create(
        program=ReferralProgram.objects.get(pk=program_id), client=tenant_a.client
    )
    linked = api.post(
        "/api/v1/staff/referrals/link/",
        {"client_id": tenant_b.client.pk, "partner_id": partner.pk, "reason": "by phone"},
        format="json",
    )
    assert linked.status_code == 201 and linked.json()["source"] == "manual"
    rows = api.get(f"/api/v1/staff/referrals/?program_id={program_id}").json()
    assert [r["client_id"] for r in rows] == [tenant_b.client.pk]
    unlinked = api.post(
        "/api/v1/staff/referrals/unlink/",
        {"client_id": tenant_b.client.pk, "reason": "x"},
        format="json",
    )
    assert unlinked.status_code == 200 and unlinked.json()["unlinked_at"]
    assert api.get("/api/v1/staff/referral-payouts/").status_code == 200
    missing = api.post("/api/v1/staff/referral-payouts/confirm/", {"payout_id": 999}, format="json")
    assert missing.status_code == 404
    assert ReferralPayout.objects.count() == 0


def test_staff_pages_and_csv(admin_client: Any) -> None:
    world = ReferralWorld()
    program = world.program()
    world.rule(program)
    partner = world.partner(program)
    world.referral(partner, D(2025, 1, 5))
    for url in (
        "/admin/marketing/referralprogram/",
        f"/admin/marketing/referralprogram/{program.pk}/change/",
        "/admin/marketing/referralpartner/",
        "/admin/marketing/referral/",
        "/admin/marketing/referral/link/",
        "/admin/marketing/referralreward/",
        "/admin/marketing/referralpayout/",
        "/admin/marketing/referralevent/",
    ):
        assert admin_client.get(url).status_code == 200, url
    referral = Referral.objects.get(partner=partner)
    export = admin_client.post(
        "/admin/marketing/referral/",
        {"action": "export_csv", "_selected_action": [referral.pk]},
    )
    assert export["Content-Type"].startswith("text/csv")
    lines = export.content.decode().splitlines()
    assert lines[0].startswith("id,client_id,name,email,joined_at,source")
    assert lines[1].startswith(f"{referral.pk},{referral.client_id},")
    unlink = admin_client.post(
        f"/admin/marketing/referral/{referral.pk}/unlink/", {"reason": "gone"}
    )
    assert unlink.status_code == 302
    referral.refresh_from_db()
    assert referral.unlinked_at is not None
