"""BILLmanager: the sample XML exports (fixtures/make_billmanager_export.py) imported."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from billow.accounts.models import Client, ClientUser, Provider
from billow.catalog import actions as catalog
from billow.imports.converters.billmanager import convert, read_function
from billow.imports.errors import SourceError
from billow.imports.mapping import resolve_mapping
from billow.imports.run import import_bundle
from billow.invoicing.actions import next_numbers
from billow.ledger.models import AccountKind, LedgerAccount
from billow.services import actions as services
from billow.services.models import Service

from .conftest import row_counts

EXPORT = Path(__file__).parent / "fixtures" / "billmanager"


@pytest.fixture
def bm_mapping(provider: Provider) -> Any:
    catalog.create_currency(code="RUB", name="Russian ruble", symbol="₽")
    vds = catalog.create_product_type(name="VDS", intname="vds")
    for name, monthly in (("VDS", 49000), ("Hosting", 19000)):
        tariff = catalog.create_tariff(provider_id=provider.pk, product_type=vds, name=name)
        for currency in ("RUB", "USD"):
            for period, months in (("1m", 1), ("3m", 3), ("12m", 12)):
                catalog.set_tariff_price(
                    tariff=tariff, period=period, currency=currency, amount_minor=monthly * months
                )
    services.create_module_instance(module="manual", name="vmmgr-1")
    return resolve_mapping(
        {
            "provider": "cloudy",
            "tariffs": {"10": "VDS", "11": "VDS", "12": "Hosting"},
            "servers": {"3": "vmmgr-1"},
        }
    )


def source_balances() -> dict[str, int]:
    """email -> balance in minor units, read from account.xml by hand ("1 783.75 RUB")."""
    out = {}
    for a in read_function(EXPORT, "account"):
        amount = Decimal(a["balance"].rsplit(" ", 1)[0].replace(" ", ""))
        if amount:
            out[a["email"]] = int(amount * 100)
    return out


def test_the_exports_convert_to_a_bundle() -> None:
    bundle = convert(EXPORT)

    assert bundle.counts() == {
        "groups": 0,
        "clients": 150,
        "users": 179,
        "payers": 0,
        "balances": 80,
        "services": 139,
        "invoice_series": 2,
    }
    assert sum(b.amount for b in bundle.balances if b.currency == "RUB") == Decimal("82835.34")
    assert sum(b.amount for b in bundle.balances if b.currency == "USD") == Decimal("18127.65")
    assert [(s.year, s.last_number) for s in bundle.invoice_series] == [(2025, 360), (2026, 270)]
    assert sum(u.owner for u in bundle.users) == 150
    # BILLmanager's expiry date is the last paid day; Billow's paid-until the first unpaid one
    item = bundle.services[0]
    raw = next(i for i in read_function(EXPORT, "item") if i["id"] == item.source_id)
    assert item.paid_until == date.fromisoformat(raw["expiredate"]) + timedelta(days=1)


def test_billmanager_import_exact_counts_balances_and_rerun(bm_mapping: Any) -> None:
    report = import_bundle(convert(EXPORT), bm_mapping, dry_run=False)

    assert Client.objects.count() == 150
    assert ClientUser.objects.count() == 179
    assert ClientUser.objects.filter(is_owner=True).count() == 150
    assert Service.objects.count() == 139
    statuses = set(Service.objects.values_list("status", flat=True))
    assert statuses == {"active", "suspended_abuse", "suspended_nonpayment", "suspended_staff"}
    assert len(report.reset_user_ids) == 15
    balances = dict(
        LedgerAccount.objects.filter(kind=AccountKind.CLIENT_BALANCE).values_list(
            "client__email", "balance_minor"
        )
    )
    assert balances == source_balances()
    assert sum(balances.values()) == 8283534 + 1812765
    assert next_numbers(bm_mapping.provider.pk, 2026, "invoice")[0] == 271
    call_command("reconcile")

    before = row_counts()
    again = import_bundle(convert(EXPORT), bm_mapping, dry_run=False)
    assert row_counts() == {**before, "imports_importrun": before["imports_importrun"] + 1}
    assert {k: c["create"] + c["change"] for k, c in again.plan.summary().items()} == {
        k: 0 for k in again.plan.summary()
    }


def test_billmanager_passwords_work_after_the_import(bm_mapping: Any) -> None:
    import_bundle(convert(EXPORT), bm_mapping, dry_run=False)
    user = next(u for u in read_function(EXPORT, "user") if u["password"])

    assert authenticate(username=user["email"], password=f"pw{user['id']}") is not None
    assert authenticate(username=user["email"], password="wrong") is None


def test_an_unreadable_export_is_refused(tmp_path: Path) -> None:
    (tmp_path / "account.xml").write_text("<doc><elem><id>1</id>")

    with pytest.raises(SourceError) as caught:
        convert(tmp_path)

    assert caught.value.code == "source_unreadable"
