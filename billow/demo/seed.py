"""Demo data: one provider with a realistic catalog in two currencies, three clients.

Everything goes through the action layer, so the demo exercises the same validation staff and
clients hit. ``seed_demo()`` is idempotent: it does nothing when the demo provider exists.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from billow.accounts import actions as accounts
from billow.accounts.models import ClientGroup, PayerKind, Provider
from billow.accounts.staff import setup_staff_roles
from billow.billing.client_status import refresh_client_statuses
from billow.catalog import actions as catalog
from billow.catalog.choices import BillingType, EditPolicy, StatisticsRating, ValueType
from billow.core.actors import Actor
from billow.core.periods import BillingMode
from billow.demo.commerce_seed import seed_commerce
from billow.demo.services_seed import seed_services
from billow.demo.usage_seed import seed_usage
from billow.ledger.actions import adjust_client_balance
from billow.ledger.models import AccountKind
from billow.ledger.selectors import get_or_create_account

PROVIDER_CODE = "billow-cloud"
DEMO_LOGINS = {
    "staff": ("admin@cloud.example", "billow-demo"),
    "client": ("alice@example.com", "billow-demo"),
}
ACTOR = Actor.system()

# (code, monthly USD, monthly EUR, setup USD, setup EUR)
VPS_TARIFFS = [
    ("VPS Start", 500, 460, 0, 0),
    ("VPS Pro", 1500, 1390, 0, 0),
]
# price of N months as a share of N x monthly (longer periods are discounted)
PERIOD_DISCOUNT = {"1m": (1, 100), "3m": (3, 97), "12m": (12, 90)}


def seed_demo() -> bool:
    """Create the demo provider, catalog, clients and balances. False when already seeded."""
    if Provider.objects.filter(code=PROVIDER_CODE).exists():
        return False
    with transaction.atomic():
        provider = _provider_and_currencies()
        groups = _groups()
        _vps(provider)
        _dedicated(provider)
        _s3(provider)
        clients = _clients(provider, groups)
        _staff()
    # Opening balances: each is its own durable ledger transaction.
    for client, currency, amount, why in clients:
        account = get_or_create_account(
            kind=AccountKind.CLIENT_BALANCE, currency=currency, client=client, provider=provider
        )
        adjust_client_balance(
            account=account,
            amount_minor=amount,
            direction="credit",
            reason=why,
            nonce=f"demo-opening-{client.pk}-{currency}",
            actor=ACTOR,
        )
    seed_services(provider)
    seed_commerce(provider)
    seed_usage(provider)
    _verify_emails()
    # The clients' status follows their services and balances (hourly job in production).
    refresh_client_statuses()
    return True


def _verify_emails() -> None:
    """Seeded logins have verified addresses, so allauth lets them in without a mail."""
    for user in get_user_model().objects.exclude(email=""):
        EmailAddress.objects.update_or_create(
            user=user, email=user.email.lower(), defaults={"verified": True, "primary": True}
        )


def _provider_and_currencies() -> Provider:
    catalog.create_currency(code="USD", name="US dollar", symbol="$", actor=ACTOR)
    catalog.create_currency(code="EUR", name="Euro", symbol="€", actor=ACTOR)
    provider = accounts.create_provider(
        name="Billow Cloud",
        code=PROVIDER_CODE,
        default_currency="USD",
        email="billing@cloud.example",
        support_email="support@cloud.example",
        site_url="https://cloud.example",
        billing_url="https://my.cloud.example",
        seller={
            "legal_name": "Billow Cloud GmbH",
            "legal_address": "Beispielstraße 1\n10115 Berlin",
            "country": "DE",
            "tax_id": "DE811907980",
            "registration_number": "HRB 123456 B",
            "bank_name": "Example Bank",
            "iban": "DE89370400440532013000",
            "bic": "COBADEFFXXX",
        },
        actor=ACTOR,
    )
    catalog.set_exchange_rate(
        base="EUR", quote="USD", valid_from=date(2026, 1, 1), rate="1.0800", actor=ACTOR
    )
    catalog.set_exchange_rate(
        base="EUR", quote="USD", valid_from=date(2026, 11, 1), rate="1.0650", actor=ACTOR
    )
    return provider


def _groups() -> dict[str, ClientGroup]:
    resellers = ClientGroup.objects.create(
        name="Resellers",
        description="Partners reselling our VPS; may suspend and resume their services.",
        allow_suspend_resume=True,
        ignore_service_limit=True,
    )
    vip = ClientGroup.objects.create(name="VIP", description="Key accounts with a better EUR rate.")
    catalog.set_exchange_rate(
        base="EUR",
        quote="USD",
        valid_from=date(2026, 11, 1),
        rate="1.0500",
        client_group_id=vip.pk,
        actor=ACTOR,
    )
    return {"resellers": resellers, "vip": vip}


def _prices(tariff: Any, usd_monthly: int, eur_monthly: int, setup: tuple[int, int]) -> None:
    for period, (months, percent) in PERIOD_DISCOUNT.items():
        for currency, monthly, fee in (
            ("USD", usd_monthly, setup[0]),
            ("EUR", eur_monthly, setup[1]),
        ):
            catalog.set_tariff_price(
                tariff=tariff,
                period=period,
                currency=currency,
                amount_minor=monthly * months * percent // 100,
                setup_fee_minor=fee,
                actor=ACTOR,
            )


def _vps(provider: Provider) -> None:
    vps = catalog.create_product_type(
        name="Virtual server", intname="vps", auto_delete_days=14, actor=ACTOR
    )
    catalog.add_product_type_parameter(
        product_type=vps,
        name="Operating system",
        intname="os",
        values=[
            ("debian-12", "Debian 12"),
            ("ubuntu-24.04", "Ubuntu 24.04 LTS"),
            ("almalinux-9", "AlmaLinux 9"),
            ("windows-2022", "Windows Server 2022"),
        ],
        actor=ACTOR,
    )
    for index, (name, usd, eur, su, se) in enumerate(VPS_TARIFFS):
        mode = BillingMode.CALENDAR if index == 1 else BillingMode.ANNIVERSARY
        tariff = catalog.create_tariff(
            provider_id=provider.pk,
            product_type=vps,
            name=name,
            billing_mode=mode.value,
            prorata_day=20,
            order_limit=10,
            trial_days=7 if index == 0 else 0,
            sort=index,
            description=f"{name}: KVM virtual server on NVMe storage.",
            actor=ACTOR,
        )
        _prices(tariff, usd, eur, (su, se))
        if index == 0:  # VPS Start also by the hour: 0.01 an hour, about 7.30 a month
            for currency in ("USD", "EUR"):
                catalog.set_tariff_price(
                    tariff=tariff, period="hour", currency=currency, amount_minor=1, actor=ACTOR
                )
        scale = index + 1
        _int_addon(tariff, "vCPU", "cpu", "vCPU", 300, included=scale, max_value=16)
        ram = _int_addon(tariff, "Memory", "ram", "GiB", 250, included=scale, max_value=64)
        catalog.set_addon_price_point(
            addon=ram, currency="USD", from_value=16, unit_price_minor=200, actor=ACTOR
        )
        _int_addon(
            tariff,
            "Disk",
            "disk",
            "GiB",
            10,
            included=20 * scale,
            max_value=520,
            step=10,
            min_value=20 * scale,
            edit_policy=EditPolicy.INCREASE_ONLY,
        )
        _int_addon(tariff, "IPv4 addresses", "ipv4", "IP", 200, included=1, max_value=8)
        catalog.create_addon(
            tariff=tariff,
            name="Daily backups",
            intname="backup",
            value_type=ValueType.BOOL,
            billing_type=BillingType.ON_ORDER,
            currency="USD",
            unit_price_minor=150,
            max_value=1,
            actor=ACTOR,
        )
        catalog.create_addon(
            tariff=tariff,
            name="Traffic",
            intname="traffic",
            value_type=ValueType.INT,
            billing_type=BillingType.STATISTICS,
            currency="USD",
            unit="GiB",
            included=1000 * scale,
            overage_price_minor="0.5",
            statistics_rating=StatisticsRating.PER_MONTH,
            actor=ACTOR,
        )


def _int_addon(
    tariff: Any,
    name: str,
    intname: str,
    unit: str,
    price: int,
    *,
    included: int,
    max_value: int,
    step: int = 1,
    min_value: int | None = None,
    edit_policy: str = EditPolicy.ANY,
) -> Any:
    low = included if min_value is None else min_value
    addon = catalog.create_addon(
        tariff=tariff,
        name=name,
        intname=intname,
        value_type=ValueType.INT,
        billing_type=BillingType.ON_ORDER,
        currency="USD",
        unit=unit,
        unit_price_minor=price,
        included=included,
        min_value=low,
        max_value=max_value,
        step=step,
        default_value=low,
        edit_policy=edit_policy,
        actor=ACTOR,
    )
    # The EUR unit price is quoted per month explicitly.
    catalog.set_addon_price(
        addon=addon, period="1m", currency="EUR", unit_price_minor=price * 92 // 100, actor=ACTOR
    )
    return addon


def _dedicated(provider: Provider) -> None:
    dedicated = catalog.create_product_type(
        name="Dedicated server",
        intname="dedicated",
        auto_delete_days=30,
        no_suspend_weekends=True,
        actor=ACTOR,
    )
    tariff = catalog.create_tariff(
        provider_id=provider.pk,
        product_type=dedicated,
        name="DX-2000 (Xeon E-2388G, 64 GB, 2x1 TB NVMe)",
        order_limit=3,
        actor=ACTOR,
    )
    _prices(tariff, 12900, 11900, (9900, 9100))
    _int_addon(tariff, "Extra RAM", "ram", "GB", 400, included=64, max_value=128, step=32)
    _int_addon(tariff, "IPv4 addresses", "ipv4", "IP", 200, included=1, max_value=16)


def _s3(provider: Provider) -> None:
    s3 = catalog.create_product_type(name="S3 storage", intname="s3", actor=ACTOR)
    tariff = catalog.create_tariff(
        provider_id=provider.pk, product_type=s3, name="S3 Standard", actor=ACTOR
    )
    for currency, amount in (("USD", 100), ("EUR", 90)):
        catalog.set_tariff_price(
            tariff=tariff, period="1m", currency=currency, amount_minor=amount, actor=ACTOR
        )
    for name, intname, unit, included, price, rating, aggregation in (
        # cents per unit: about $0.02 per GiB-month stored, $0.01 per GiB out, $0.0004 per 1k
        ("Stored data", "storage", "GiB", 50, "0.07", StatisticsRating.PER_DAY, "max"),
        ("Outgoing traffic", "traffic_out", "GiB", 100, "1", StatisticsRating.PER_MONTH, "sum"),
        ("Requests", "requests", "1k requests", 1000, "0.04", StatisticsRating.PER_MONTH, "sum"),
    ):
        catalog.create_addon(
            tariff=tariff,
            name=name,
            intname=intname,
            value_type=ValueType.INT,
            billing_type=BillingType.STATISTICS,
            currency="USD",
            unit=unit,
            included=included,
            overage_price_minor=price,
            statistics_rating=rating,
            aggregation=aggregation,
            actor=ACTOR,
        )


def _clients(provider: Provider, groups: dict[str, ClientGroup]) -> list[tuple[Any, str, int, str]]:
    password = DEMO_LOGINS["client"][1]
    alice = accounts.create_client(
        email="alice@example.com",
        name="Alice Johnson",
        providers=[provider],
        language="en",
        country="US",
        password=password,
        actor=ACTOR,
    )
    accounts.create_payer(
        client=alice,
        kind=PayerKind.INDIVIDUAL,
        name="Alice Johnson",
        email="alice@example.com",
        country="US",
        region="CA",
        city="San Francisco",
        address="500 Market St",
    )
    globex = accounts.create_client(
        email="ops@globex.example",
        name="Globex GmbH",
        providers=[provider],
        language="en",
        country="DE",
        contact_person="Hans Weber",
        password=password,
        actor=ACTOR,
    )
    accounts.create_payer(
        client=globex,
        kind=PayerKind.COMPANY,
        name="Globex GmbH",
        contact_person="Hans Weber",
        email="invoices@globex.example",
        tax_id="DE123456789",
        legal_country="DE",
        legal_city="Berlin",
        legal_postcode="10115",
        legal_address="Invalidenstr. 1",
        country="DE",
        city="Berlin",
    )
    accounts.add_client_to_group(client=globex, group=groups["resellers"], actor=ACTOR)
    ivan = accounts.create_client(
        email="ivan@example.com",
        name="Ivan Petrov",
        providers=[provider],
        language="ru",
        country="ES",
        password=password,
        actor=ACTOR,
    )
    accounts.create_payer(
        client=ivan,
        kind=PayerKind.SOLE_PROPRIETOR,
        name="Ivan Petrov, autónomo",
        email="ivan@example.com",
        tax_id="X1234567L",
        legal_country="ES",
        legal_city="Valencia",
        country="ES",
        city="Valencia",
    )
    accounts.add_client_to_group(client=ivan, group=groups["vip"], actor=ACTOR)
    return [
        (alice, "USD", 2500, "Demo opening balance"),
        (globex, "EUR", 50000, "Demo opening balance (bank transfer)"),
        (globex, "USD", 12000, "Demo opening balance"),
        # 5.00: the blog (4.60 a month) was paid once; not enough for the next month
        (ivan, "EUR", 500, "Demo opening balance"),
    ]


def _staff() -> None:
    email, password = DEMO_LOGINS["staff"]
    user_model = get_user_model()
    setup_staff_roles()
    if not user_model.objects.filter(username="admin").exists():
        admin = user_model.objects.create_superuser("admin", email, password)
        admin.groups.add(Group.objects.get(name="Administrators"))
