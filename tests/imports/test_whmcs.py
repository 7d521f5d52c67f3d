"""WHMCS: the sample dump (fixtures/make_whmcs_dump.py) converted and imported."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from billow.accounts.models import Client, ClientUser, Payer, Provider
from billow.catalog import actions as catalog
from billow.imports.bundle import read_bundle
from billow.imports.converters.mysqldump import read_tables
from billow.imports.converters.whmcs import TABLES, convert
from billow.imports.errors import SourceError
from billow.imports.mapping import resolve_mapping
from billow.imports.run import import_bundle
from billow.invoicing.actions import next_numbers
from billow.ledger.models import AccountKind, LedgerAccount
from billow.services import actions as services
from billow.services.models import Service

from .conftest import row_counts

DUMP = Path(__file__).parent / "fixtures" / "whmcs_sample.sql"


@pytest.fixture
def whmcs_mapping(provider: Provider) -> Any:
    hosting = catalog.create_product_type(name="Hosting", intname="hosting")
    names = {"Shared": 500, "VPS": 1500, "Dedicated": 9900}
    for name, monthly in names.items():
        tariff = catalog.create_tariff(provider_id=provider.pk, product_type=hosting, name=name)
        for currency in ("USD", "EUR"):
            for period, months in (("1m", 1), ("3m", 3), ("12m", 12)):
                catalog.set_tariff_price(
                    tariff=tariff, period=period, currency=currency, amount_minor=monthly * months
                )
    for name in ("pve-1", "pve-2"):
        services.create_module_instance(module="manual", name=name)
    return resolve_mapping(
        {
            "provider": "cloudy",
            "tariffs": {"1": "Shared", "2": "Shared", "3": "VPS", "4": "VPS", "5": "Dedicated"},
            "servers": {"1": "pve-1", "2": "pve-2"},
        }
    )


def source_credit() -> dict[str, Decimal]:
    """Each client's credit straight from the dump: email (lower-case) -> amount."""
    rows = read_tables(DUMP, {"tblclients"})["tblclients"]
    return {r["email"].lower(): Decimal(r["credit"]) for r in rows}


def test_the_dump_converts_to_a_bundle_of_the_live_rows() -> None:
    bundle = convert(DUMP)

    assert bundle.counts() == {
        "groups": 3,
        "clients": 320,
        "users": 320,
        "payers": 320,
        "balances": 103,
        "services": 308,
        "invoice_series": 3,
    }
    assert sum(b.amount for b in bundle.balances if b.currency == "USD") == Decimal("17923.04")
    assert sum(b.amount for b in bundle.balances if b.currency == "EUR") == Decimal("4917.41")
    assert [(s.year, s.last_number) for s in bundle.invoice_series] == [
        (2024, 400),
        (2025, 850),
        (2026, 26379),
    ]
    schemes = [u.password_scheme for u in bundle.users]
    assert (schemes.count("bcrypt"), schemes.count("whmcs_md5"), schemes.count("")) == (
        173,
        122,
        25,
    )
    assert "69 x Terminated service left behind" in bundle.notes
    assert "11 x Free Account-cycle service left behind" in bundle.notes


def test_whmcs_import_exact_counts_balances_to_the_cent_and_a_rerun_is_a_no_op(
    whmcs_mapping: Any,
) -> None:
    report = import_bundle(convert(DUMP), whmcs_mapping, dry_run=False)

    assert Client.objects.count() == 320
    assert ClientUser.objects.filter(is_owner=True).count() == 320
    assert Payer.objects.count() == 320
    companies = [r for r in read_tables(DUMP, {"tblclients"})["tblclients"] if r["companyname"]]
    assert Payer.objects.filter(kind="company").count() == len(companies) == 81
    assert Service.objects.count() == 308
    assert (
        Service.objects.filter(status="active").count()
        + Service.objects.filter(status__startswith="suspended").count()
        == 308
    )
    assert (
        Service.objects.filter(module_instance__isnull=False).count()
        == Service.objects.filter(tariff__name__in=["VPS", "Dedicated"]).count()
    )
    assert len(report.reset_user_ids) == 25
    balances = {
        email.lower(): minor
        for email, minor in LedgerAccount.objects.filter(
            kind=AccountKind.CLIENT_BALANCE
        ).values_list("client__email", "balance_minor")
    }
    expected = {e: int(c * 100) for e, c in source_credit().items() if c}
    assert balances == expected
    assert sum(balances.values()) == 1792304 + 491741
    assert next_numbers(whmcs_mapping.provider.pk, 2026, "invoice")[0] == 26380
    call_command("reconcile")  # exits 0

    before = row_counts()
    again = import_bundle(convert(DUMP), whmcs_mapping, dry_run=False)
    assert row_counts() == {**before, "imports_importrun": before["imports_importrun"] + 1}
    assert again.plan.summary()["service"] == {
        "create": 0,
        "change": 0,
        "unchanged": 308,
        "kept": 0,
        "refused": 0,
    }


def test_whmcs_passwords_work_after_the_import(whmcs_mapping: Any) -> None:
    import_bundle(convert(DUMP), whmcs_mapping, dry_run=False)
    rows = read_tables(DUMP, {"tblclients"})["tblclients"]
    bcrypt_client = next(r for r in rows if r["password"].startswith("$2y$"))
    md5_client = next(r for r in rows if ":" in r["password"])

    for r in (bcrypt_client, md5_client):
        email = r["email"].lower()
        assert authenticate(username=email, password=f"pw{r['id']}") is not None
        assert authenticate(username=email, password="nope") is None


def test_csv_exports_convert_like_the_dump(tmp_path: Path) -> None:
    tables = read_tables(DUMP, TABLES)
    for table, rows in tables.items():
        with (tmp_path / f"{table}.csv").open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)

    assert convert(tmp_path) == convert(DUMP)


def test_the_command_converts_writes_and_imports(whmcs_mapping: Any, tmp_path: Path) -> None:
    import json

    bundle_path = tmp_path / "bundle.json"
    call_command("import", str(DUMP), "--from", "whmcs", "--write-bundle", str(bundle_path))
    assert read_bundle(bundle_path) == convert(DUMP)
    mapping_path = tmp_path / "mapping.json"
    mapping_path.write_text(
        json.dumps(
            {
                "provider": "cloudy",
                "tariffs": {"1": "Shared", "2": "Shared", "3": "VPS", "4": "VPS", "5": "Dedicated"},
                "servers": {"1": "pve-1", "2": "pve-2"},
            }
        )
    )
    before = row_counts()
    call_command("import", str(bundle_path), "--mapping", str(mapping_path), "--dry-run")
    assert row_counts() == before

    links = tmp_path / "links.csv"
    call_command(
        "import",
        str(bundle_path),
        "--mapping",
        str(mapping_path),
        "--reset-links",
        str(links),
        "--base-url",
        "https://billing.example.com",
        "--quiet-progress",
    )
    assert Service.objects.count() == 308
    lines = links.read_text().splitlines()
    assert len(lines) == 26 and lines[1].split(",")[1].startswith(
        "https://billing.example.com/accounts/password/reset/key/"
    )


def test_a_dump_without_clients_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.sql"
    empty.write_text("-- MySQL dump\n")

    with pytest.raises(SourceError) as caught:
        convert(empty)

    assert caught.value.code == "source_table_missing"
