"""Staff API of promotions / promo codes, tax rules and payment methods (issue 13.3): create,
update and deactivate through the owner apps' actions; refusals in the error shape writing
nothing; scope and model permission; idempotent replay of POST."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType

from billow.accounts.models import ClientGroup
from billow.core.models import ConfigChange
from billow.invoicing.models import TaxRule
from billow.marketing.promos.models import PromoCode, Promotion, PromotionDiscount
from billow.payments.models import PaymentMethod
from billow.payments.secrets import get_secrets
from tests.api.conftest import Tenant, bearer

pytestmark = pytest.mark.django_db
STAFF = ["staff:read", "staff:write"]


def post(api: Any, path: str, body: dict[str, Any], key: str | None = None) -> Any:
    return api.post(
        f"/api/v1/staff/{path}", body, format="json", HTTP_IDEMPOTENCY_KEY=key or uuid.uuid4().hex
    )


def patch(api: Any, path: str, body: dict[str, Any]) -> Any:
    return api.patch(f"/api/v1/staff/{path}", body, format="json")


def refused(response: Any, status: int, code: str) -> None:
    assert (response.status_code, response.json()["code"]) == (status, code), response.content
    assert set(response.json()) >= {"code", "message", "details"}


# -- promotions and promo codes ----------------------------------------------------------------


def test_promotion_create_update_deactivate_and_codes(tenant_a: Tenant, staff_user: Any) -> None:
    api = bearer(staff_user, STAFF)
    provider_id = tenant_a.world.provider.pk
    body = {
        "provider_id": provider_id,
        "name": "spring",
        "title": "Spring sale",
        "discount_kind": "fixed",
        "amount_minor": 250,
        "currency": "USD",
        "max_uses": 10,
    }
    first = post(api, "promotions/", body, key="promo-1")
    assert first.status_code == 201, first.content
    replay = post(api, "promotions/", body, key="promo-1")
    assert (replay.status_code, replay.json(), replay.headers["Idempotent-Replayed"]) == (
        201,
        first.json(),
        "true",
    )
    assert Promotion.objects.filter(name="spring").count() == 1
    promo = first.json()
    assert promo["discounts"] == [
        {
            "target": "all",
            "kind": "fixed",
            "percent": "0.00",
            "amount_minor": 250,
            "currency": "USD",
        }
    ]
    assert (promo["max_uses"], promo["is_active"], promo["uses"]) == (10, True, 0)

    r = patch(api, f"promotions/{promo['id']}/", {"max_uses": 20, "is_active": False})
    assert (r.status_code, r.json()["max_uses"], r.json()["is_active"]) == (200, 20, False)

    r = post(api, f"promotions/{promo['id']}/codes/", {"code": "spring-25", "max_uses": 5})
    assert (r.status_code, r.json()["code"], r.json()["max_uses"]) == (201, "SPRING-25", 5)
    code_id = r.json()["id"]
    r = patch(api, f"promo-codes/{code_id}/", {"is_active": False})
    assert (r.status_code, r.json()["is_active"]) == (200, False)
    listed = api.get(f"/api/v1/staff/promotions/{promo['id']}/codes/").json()["results"]
    assert [(c["code"], c["is_active"]) for c in listed] == [("SPRING-25", False)]
    listed = api.get(f"/api/v1/staff/promotions/?provider_id={provider_id}").json()["results"]
    assert [p["name"] for p in listed] == ["spring"]


def test_promotion_refusals_write_nothing(tenant_a: Tenant, staff_user: Any) -> None:
    api = bearer(staff_user, STAFF)
    provider_id = tenant_a.world.provider.pk
    base = {"provider_id": provider_id, "name": "p", "discount_kind": "percent"}
    refused(post(api, "promotions/", {**base, "percent": "0"}), 400, "invalid_discount")
    refused(post(api, "promotions/", {**base, "percent": "100.01"}), 400, "invalid_discount")
    refused(
        post(api, "promotions/", {**base, "discount_kind": "fixed", "amount_minor": 100}),
        400,
        "invalid_discount",
    )
    refused(
        post(
            api,
            "promotions/",
            {
                **base,
                "percent": "10",
                "starts_at": "2030-02-01T00:00:00Z",
                "ends_at": "2030-01-01T00:00:00Z",
            },
        ),
        400,
        "invalid_promotion",
    )
    assert not Promotion.objects.exists() and not PromotionDiscount.objects.exists()

    created = post(api, "promotions/", {**base, "percent": "12.5"})
    assert created.status_code == 201
    promotion = Promotion.objects.get()
    Promotion.objects.filter(pk=promotion.pk).update(uses=3)
    refused(patch(api, f"promotions/{promotion.pk}/", {"max_uses": 2}), 400, "invalid_promotion")
    r = post(api, f"promotions/{promotion.pk}/codes/", {"code": "A1"})
    assert r.status_code == 201
    refused(post(api, f"promotions/{promotion.pk}/codes/", {"code": "a1"}), 400, "promo_code_taken")
    refused(
        post(api, f"promotions/{promotion.pk}/codes/", {"code": "a b"}), 400, "invalid_promo_code"
    )
    promotion.refresh_from_db()
    assert (promotion.max_uses, PromoCode.objects.count()) == (None, 1)


def test_promotion_scope_and_permission(tenant_a: Tenant, staff_user: Any) -> None:
    body = {
        "provider_id": tenant_a.world.provider.pk,
        "name": "p",
        "discount_kind": "percent",
        "percent": "5",
    }
    assert post(bearer(staff_user, ["staff:read"]), "promotions/", body).status_code == 403
    assert post(tenant_a.api(), "promotions/", body).status_code == 403
    clerk = get_user_model().objects.create_user("clerk", "c@example.com", "pw", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_promotion"))
    assert bearer(clerk, STAFF).get("/api/v1/staff/promotions/").status_code == 200
    assert post(bearer(clerk, STAFF), "promotions/", body).status_code == 403
    assert not Promotion.objects.exists()


# -- tax rules ---------------------------------------------------------------------------------


def test_tax_rule_create_update_deactivate(tenant_a: Tenant, staff_user: Any) -> None:
    api = bearer(staff_user, STAFF)
    body = {
        "provider_id": tenant_a.world.provider.pk,
        "name": "VAT DE",
        "rate": "19",
        "country": "de",
        "client_id": tenant_a.client.pk,
    }
    first = post(api, "tax-rules/", body, key="tax-1")
    assert first.status_code == 201, first.content
    assert post(api, "tax-rules/", body, key="tax-1").json() == first.json()
    rule = TaxRule.objects.get(name="VAT DE")
    assert (rule.rate, rule.country, rule.client_id, rule.included) == (
        Decimal("19.000"),
        "DE",
        tenant_a.client.pk,
        False,
    )
    r = patch(api, f"tax-rules/{rule.pk}/", {"rate": "7.5", "included": True, "is_active": False})
    assert r.status_code == 200, r.content
    assert (r.json()["rate"], r.json()["included"], r.json()["is_active"]) == ("7.500", True, False)
    assert TaxRule.objects.filter(name="VAT DE").count() == 1
    # both writes are in the configuration journal, the change with its field-level diff
    changes = ConfigChange.objects.filter(
        content_type=ContentType.objects.get_for_model(TaxRule), object_id=str(rule.pk)
    ).order_by("pk")
    assert [c.action for c in changes] == ["created", "changed"]
    diff = {d["field"]: (d["old"], d["new"]) for d in changes[1].diff}
    assert set(diff) == {"rate", "included", "is_active"}
    assert (Decimal(diff["rate"][0]), Decimal(diff["rate"][1])) == (Decimal(19), Decimal("7.5"))
    assert (diff["included"], diff["is_active"]) == ((False, True), (True, False))
    assert changes[1].actor_kind == "api_token"  # a staff member's token


def test_tax_rule_refusals_write_nothing(tenant_a: Tenant, staff_user: Any) -> None:
    api = bearer(staff_user, STAFF)
    before = list(TaxRule.objects.values_list("id", "rate"))
    base = {"provider_id": tenant_a.world.provider.pk, "name": "bad"}
    refused(post(api, "tax-rules/", {**base, "rate": "120"}), 400, "invalid_tax_rule")
    refused(
        post(api, "tax-rules/", {**base, "rate": "5", "country": "1x"}), 400, "invalid_tax_rule"
    )
    group = ClientGroup.objects.create(name="resellers")
    both = {**base, "rate": "5", "client_id": tenant_a.client.pk, "client_group_id": group.pk}
    refused(post(api, "tax-rules/", both), 400, "invalid_tax_rule")
    refused(post(api, "tax-rules/", {**base, "rate": "abc"}), 400, "validation_error")
    created = post(api, "tax-rules/", {**base, "rate": "5"})
    assert created.status_code == 201
    refused(
        patch(api, f"tax-rules/{created.json()['id']}/", {"rate": "-1"}), 400, "invalid_tax_rule"
    )
    after = set(TaxRule.objects.values_list("id", "rate"))
    assert after == {*before, (created.json()["id"], Decimal("5.000"))}


def test_tax_rule_scope(tenant_a: Tenant, staff_user: Any) -> None:
    body = {"provider_id": tenant_a.world.provider.pk, "name": "x", "rate": "5"}
    count = TaxRule.objects.count()
    assert post(bearer(staff_user, ["staff:read"]), "tax-rules/", body).status_code == 403
    assert post(tenant_a.api(), "tax-rules/", body).status_code == 403
    assert TaxRule.objects.count() == count


# -- payment methods ---------------------------------------------------------------------------


def test_payment_method_create_update_deactivate(
    tenant_a: Tenant, staff_user: Any, settings: Any
) -> None:
    settings.PAYMENTS_ALLOW_SANDBOX = True
    api = bearer(staff_user, STAFF)
    body = {
        "provider_id": tenant_a.world.provider.pk,
        "gateway": "sandbox",
        "name": "Test cards",
        "currency": "USD",
        "fee_fixed_minor": 30,
        "fee_percent": "2.9",
        "min_amount_minor": 500,
        "max_amount_minor": 100_000,
        "secrets": {"webhook_secret": "s3cret"},
    }
    first = post(api, "payment-methods/", body, key="pm-1")
    assert first.status_code == 201, first.content
    assert post(api, "payment-methods/", body, key="pm-1").json() == first.json()
    out = first.json()
    assert "secrets" not in out
    assert (out["fee_fixed_minor"], out["fee_percent"], out["min_amount_minor"]) == (
        30,
        "2.9000",
        500,
    )
    method = PaymentMethod.objects.get(pk=out["id"])
    assert get_secrets(method) == {"webhook_secret": "s3cret"}
    r = patch(api, f"payment-methods/{method.pk}/", {"fee_fixed_minor": 0, "is_active": False})
    assert (r.status_code, r.json()["fee_fixed_minor"], r.json()["is_active"]) == (200, 0, False)
    method.refresh_from_db()
    assert get_secrets(method) == {"webhook_secret": "s3cret"}  # kept when not sent
    assert PaymentMethod.objects.filter(name="Test cards").count() == 1


def test_payment_method_refusals_write_nothing(
    tenant_a: Tenant, staff_user: Any, settings: Any
) -> None:
    settings.PAYMENTS_ALLOW_SANDBOX = True
    api = bearer(staff_user, STAFF)
    count = PaymentMethod.objects.count()
    base = {
        "provider_id": tenant_a.world.provider.pk,
        "gateway": "sandbox",
        "name": "bad",
        "currency": "USD",
    }
    refused(
        post(api, "payment-methods/", {**base, "min_amount_minor": 500, "max_amount_minor": 100}),
        400,
        "invalid_payment_method",
    )
    refused(
        post(api, "payment-methods/", {**base, "fee_percent": "101"}), 400, "invalid_payment_method"
    )
    refused(
        post(api, "payment-methods/", {**base, "config": {"nope": 1}}),
        400,
        "invalid_gateway_config",
    )
    refused(
        post(api, "payment-methods/", {**base, "secrets": {"nope": "x"}}), 400, "unknown_secret"
    )
    refused(post(api, "payment-methods/", {**base, "fee_fixed_minor": -1}), 400, "validation_error")
    settings.PAYMENTS_ALLOW_SANDBOX = False
    settings.DEBUG = False
    refused(post(api, "payment-methods/", base), 400, "sandbox_not_allowed")
    assert PaymentMethod.objects.count() == count
    settings.PAYMENTS_ALLOW_SANDBOX = True
    method = PaymentMethod.objects.get(pk=post(api, "payment-methods/", base).json()["id"])
    refused(
        patch(
            api, f"payment-methods/{method.pk}/", {"max_amount_minor": 0, "min_amount_minor": 10}
        ),
        400,
        "invalid_payment_method",
    )
    method.refresh_from_db()
    assert (method.min_amount_minor, method.max_amount_minor) == (0, None)


def test_payment_method_scope_and_permission(tenant_a: Tenant, staff_user: Any) -> None:
    body = {
        "provider_id": tenant_a.world.provider.pk,
        "gateway": "bank_transfer",
        "name": "x",
        "currency": "USD",
    }
    count = PaymentMethod.objects.count()
    assert post(bearer(staff_user, ["staff:read"]), "payment-methods/", body).status_code == 403
    clerk = get_user_model().objects.create_user("clerk", "c@example.com", "pw", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_paymentmethod"))
    assert post(bearer(clerk, STAFF), "payment-methods/", body).status_code == 403
    assert PaymentMethod.objects.count() == count
