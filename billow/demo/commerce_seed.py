"""Demo commerce: payment methods, a promo code, tax rules, and a paid order with its invoice,
so the demo's order, checkout, payments and invoices pages have something real to show."""

from __future__ import annotations

import secrets

from billow.accounts.models import Client, Provider
from billow.catalog.models import Tariff
from billow.core.actors import Actor
from billow.invoicing.models import TaxRule
from billow.marketing.promos.actions import create_promo_code
from billow.marketing.promos.models import Promotion, PromotionDiscount
from billow.orders.actions import checkout
from billow.orders.selectors import ItemSpec
from billow.payments.actions import configure_payment_method
from billow.payments.models import PaymentMethod

ACTOR = Actor.system("demo")
PROMO_CODE = "WELCOME10"


def seed_commerce(provider: Provider) -> None:
    _methods(provider)
    promotion = Promotion.objects.create(
        provider=provider,
        name="Welcome",
        title="Welcome discount: 10 % off",
        requires_code=True,
        max_uses=1000,
        max_uses_per_client=1,
    )
    PromotionDiscount.objects.create(promotion=promotion, target="all", kind="percent", percent=10)
    create_promo_code(promotion=promotion, code=PROMO_CODE, max_uses=1000, actor=ACTOR)
    TaxRule.objects.create(provider=provider, name="VAT DE 19 %", country="DE", rate=19)
    TaxRule.objects.create(provider=provider, name="IVA ES 21 %", country="ES", rate=21)
    _globex_order(provider)


def _methods(provider: Provider) -> None:
    for currency in ("USD", "EUR"):
        configure_payment_method(
            method=PaymentMethod(
                provider=provider,
                gateway="sandbox",
                name=f"Test card ({currency})",
                currency=currency,
                sort=10,
                supports_refunds=True,
                supports_recurring=True,
            ),
            secrets={"webhook_secret": secrets.token_hex(16)},
            actor=ACTOR,
        )
    configure_payment_method(
        method=PaymentMethod(
            provider=provider,
            gateway="bank_transfer",
            name="Bank transfer (EUR)",
            currency="EUR",
            sort=20,
            min_amount_minor=1000,
            supports_refunds=True,
        ),
        config={"bank_details": "Billow Cloud Ltd · IBAN DE89 3704 0044 0532 0130 00"},
        actor=ACTOR,
    )


def _globex_order(provider: Provider) -> None:
    """Globex (Germany, EUR balance) orders a VPS Pro: paid from the balance, 19 % VAT added,
    invoiced (the invoice PDF is checked by tests/demo)."""
    globex = Client.objects.get(email="ops@globex.example")
    tariff = Tariff.objects.get(provider=provider, name="VPS Pro")
    payer = globex.payers.first()
    checkout(
        client=globex,
        provider_id=provider.pk,
        payer=payer,
        currency="EUR",
        items=[ItemSpec("vps", tariff.pk, "1m", {}, {"os": "debian-12"})],
        actor=ACTOR,
    )
