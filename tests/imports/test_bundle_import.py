"""Importing a bundle: exact counts, balances to the cent, reconcile, reruns, refusals."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command

from billow.accounts.models import AccountEvent, Client, ClientUser, Payer
from billow.imports.bundle import parse_bundle, read_bundle
from billow.imports.errors import BundleError, ImportRefused
from billow.imports.mapping import Mapping
from billow.imports.run import import_bundle
from billow.invoicing.actions import next_numbers
from billow.ledger.models import AccountKind, LedgerAccount
from billow.ledger.selectors import get_reconcile_report
from billow.services.models import Service, ServiceEvent

from .conftest import row_counts


def _whmcs_md5(password: str, salt: str) -> str:
    import hashlib

    return hashlib.md5((salt + password).encode(), usedforsecurity=False).hexdigest() + ":" + salt


def sample() -> dict[str, Any]:
    return {
        "format": "billow-import-bundle",
        "version": 1,
        "source": "test",
        "groups": [{"source_id": "g1", "name": "Resellers"}],
        "clients": [
            {
                "source_id": "1",
                "email": "Ann@Example.com",
                "name": "Ann",
                "country": "de",
                "groups": ["g1"],
                "created_at": "2019-05-01T10:00:00Z",
            },
            {"source_id": "2", "email": "bob@example.com", "name": "Bob", "status": "inactive"},
        ],
        "users": [
            {
                "source_id": "1",
                "client": "1",
                "email": "ann@example.com",
                "owner": True,
                "password_hash": _whmcs_md5("secret", "ab12"),
                "password_scheme": "whmcs_md5",
            },
            {"source_id": "2", "client": "2", "email": "bob@example.com", "owner": True},
        ],
        "payers": [
            {
                "source_id": "1",
                "client": "1",
                "kind": "company",
                "name": "Ann GmbH",
                "country": "DE",
                "city": "Berlin",
            }
        ],
        "balances": [
            {"client": "1", "currency": "USD", "amount": "12.34"},
            {"client": "2", "currency": "EUR", "amount": "-5.01"},
        ],
        "services": [
            {
                "source_id": "100",
                "client": "1",
                "product": "1",
                "currency": "USD",
                "paid_until": "2027-01-15",
                "external_id": "vm-100",
                "server": "7",
            },
            {
                "source_id": "101",
                "client": "1",
                "product": "2",
                "currency": "USD",
                "period": "12m",
                "paid_until": "2027-06-30",
                "status": "suspended_nonpayment",
                "special_price": "150.00",
            },
            {
                "source_id": "102",
                "client": "2",
                "product": "1",
                "currency": "EUR",
                "paid_until": "2026-12-20",
                "auto_renew": False,
            },
        ],
        "invoice_series": [{"year": 2026, "last_number": 4711}],
    }


def test_import_creates_every_row_once_with_balances_to_the_cent(mapping: Mapping) -> None:
    # given a bundle of two clients and three services; when it is imported
    report = import_bundle(parse_bundle(sample()), mapping, dry_run=False)

    # then exactly these rows exist
    assert report.plan.summary()["client"] == {
        "create": 2,
        "change": 0,
        "unchanged": 0,
        "kept": 0,
        "refused": 0,
    }
    assert Client.objects.count() == 2
    ann = Client.objects.get(email="ann@example.com")
    assert (ann.name, ann.country, ann.status) == ("Ann", "DE", "active")
    assert ann.created_at.isoformat() == "2019-05-01T10:00:00+00:00"
    assert list(ann.groups.values_list("name", flat=True)) == ["Resellers"]
    assert list(ann.providers.values_list("code", flat=True)) == ["cloudy"]
    assert Client.objects.get(email="bob@example.com").status == "inactive"
    assert ClientUser.objects.filter(is_owner=True).count() == 2
    payer = Payer.objects.get()
    assert (payer.client_id, payer.kind, payer.legal_country, payer.legal_city) == (
        ann.pk,
        "company",
        "DE",
        "Berlin",
    )
    balances = dict(
        LedgerAccount.objects.filter(kind=AccountKind.CLIENT_BALANCE).values_list(
            "client__email", "balance_minor"
        )
    )
    assert balances == {"ann@example.com": 1234, "bob@example.com": -501}
    services = {s.external_id or s.name: s for s in Service.objects.all()}
    vm = services["vm-100"]
    assert (vm.status, vm.paid_until, vm.period, vm.anchor_day) == (
        "active",
        date(2027, 1, 15),
        "1m",
        15,
    )
    assert vm.module_instance is not None and vm.module_instance.name == "node-1"
    assert vm.auto_renew_period == "1m"
    large = Service.objects.get(tariff__name="Large")
    assert (large.status, large.period, large.special_price_minor) == (
        "suspended_nonpayment",
        "12m",
        15000,
    )
    assert Service.objects.get(currency="EUR").auto_renew_period == ""
    assert ServiceEvent.objects.filter(type="service.imported").count() == 3
    assert AccountEvent.objects.filter(type="client.imported").count() == 2
    # numbering continues above the source's last number
    assert next_numbers(mapping.provider.pk, 2026, "invoice")[0] == 4712
    assert get_reconcile_report().ok
    call_command("reconcile")  # exits 0


def test_imported_password_hashes_log_in_and_others_need_a_reset(mapping: Mapping) -> None:
    report = import_bundle(parse_bundle(sample()), mapping, dry_run=False)

    user = authenticate(username="ann@example.com", password="secret")
    assert user is not None
    user.refresh_from_db()
    assert not user.password.startswith("whmcs_md5$")  # upgraded on first login
    assert authenticate(username="ann@example.com", password="wrong") is None
    bob = get_user_model().objects.get(username="bob@example.com")
    assert not bob.has_usable_password()
    assert report.reset_user_ids == [ClientUser.objects.get(user=bob).pk]


def test_a_rerun_changes_nothing(mapping: Mapping) -> None:
    import_bundle(parse_bundle(sample()), mapping, dry_run=False)
    before = row_counts()

    report = import_bundle(parse_bundle(sample()), mapping, dry_run=False)

    assert row_counts() == {**before, "imports_importrun": before["imports_importrun"] + 1}
    assert all(
        counts["create"] == counts["change"] == counts["refused"] == 0
        for counts in report.plan.summary().values()
    )
    assert report.plan.summary()["service"]["unchanged"] == 3


def test_dry_run_writes_nothing_and_reports_what_it_would_do(mapping: Mapping) -> None:
    before = row_counts()

    report = import_bundle(parse_bundle(sample()), mapping, dry_run=True)

    assert row_counts() == before
    assert report.plan.summary()["service"]["create"] == 3
    assert report.plan.summary()["balance"]["create"] == 2


def test_a_changed_source_row_is_brought_up_to_date(mapping: Mapping) -> None:
    import_bundle(parse_bundle(sample()), mapping, dry_run=False)
    changed = sample()
    changed["balances"][0]["amount"] = "20.00"
    changed["services"][0]["paid_until"] = "2027-02-15"
    changed["services"][0]["status"] = "suspended_staff"
    changed["clients"][1]["name"] = "Robert"

    report = import_bundle(parse_bundle(changed), mapping, dry_run=False)

    summary = report.plan.summary()
    assert (summary["balance"]["change"], summary["service"]["change"]) == (1, 1)
    assert summary["client"]["change"] == 1
    account = LedgerAccount.objects.get(client__email="ann@example.com")
    assert account.balance_minor == 2000
    vm = Service.objects.get(external_id="vm-100")
    assert (vm.status, vm.paid_until) == ("suspended_staff", date(2027, 2, 15))
    assert Client.objects.get(email="bob@example.com").name == "Robert"
    assert get_reconcile_report().ok
    # and a third run of the changed bundle changes nothing
    before = row_counts()
    again = import_bundle(parse_bundle(changed), mapping, dry_run=False)
    assert all(c["change"] == c["create"] == 0 for c in again.plan.summary().values())
    assert row_counts() == {**before, "imports_importrun": before["imports_importrun"] + 1}


@pytest.mark.parametrize(
    ("edit", "kind", "code"),
    [
        (lambda b: b["services"][0].update(product="99"), "service", "tariff_not_mapped"),
        (lambda b: b["services"][0].update(period="3m"), "service", "period_not_offered"),
        (lambda b: b["services"][0].update(status="deleted"), "service", "invalid_import_status"),
        (lambda b: b["clients"][0].update(email="not-an-email"), "client", "client_invalid"),
        (lambda b: b["clients"][0].update(country="XX"), "client", "unknown_country"),
        (lambda b: b["users"][1].update(email="ann@example.com"), "user", "duplicate_email"),
        (lambda b: b["users"].pop(1), "client", "owner_missing"),
        (lambda b: b["balances"][0].update(amount="1.005"), "balance", "amount_precision"),
        (lambda b: b["services"][2].update(client="404"), "service", "unknown_client"),
        (lambda b: b["clients"][0].update(groups=["nope"]), "client", "unknown_group"),
    ],
)
def test_a_refused_row_refuses_the_whole_import(
    mapping: Mapping, edit: Any, kind: str, code: str
) -> None:
    bad = copy.deepcopy(sample())
    edit(bad)
    before = row_counts()

    with pytest.raises(ImportRefused) as caught:
        import_bundle(parse_bundle(bad), mapping, dry_run=False)

    assert caught.value.code == "import_refused"
    assert (
        caught.value.details["refused"][0]["kind"],
        caught.value.details["refused"][0]["code"],
    ) == (kind, code)
    assert row_counts() == before


def test_a_login_taken_before_the_import_is_refused(mapping: Mapping) -> None:
    get_user_model().objects.create(username="bob@example.com", email="bob@example.com")
    before = row_counts()

    with pytest.raises(ImportRefused) as caught:
        import_bundle(parse_bundle(sample()), mapping, dry_run=False)

    assert [(r["kind"], r["code"]) for r in caught.value.details["refused"]] == [
        ("user", "email_taken")
    ]
    assert row_counts() == before


@pytest.mark.parametrize(
    ("edit", "code"),
    [
        (lambda b: b.update(version=2), "bundle_version_unsupported"),
        (lambda b: b.update(format="other"), "bundle_format_unknown"),
        (lambda b: b["clients"].append(dict(b["clients"][0])), "bundle_duplicate_source_id"),
        (lambda b: b["services"][0].pop("paid_until"), "bundle_field_missing"),
        (lambda b: b["balances"][0].update(amount=12.34), "bundle_field_invalid"),
        (lambda b: b["services"][0].update(paid_until="15.01.2027"), "bundle_field_invalid"),
        (lambda b: b["clients"][0].update(source_id="x" * 65), "bundle_field_invalid"),
    ],
)
def test_a_malformed_bundle_is_refused_with_a_stable_code(edit: Any, code: str) -> None:
    bad = copy.deepcopy(sample())
    edit(bad)

    with pytest.raises(BundleError) as caught:
        parse_bundle(bad)

    assert caught.value.code == code


def test_a_csv_bundle_reads_like_its_json(tmp_path: Any) -> None:
    import csv
    import json

    data = sample()
    (tmp_path / "manifest.json").write_text(
        json.dumps({k: data[k] for k in ("format", "version", "source")})
    )
    for name in ("groups", "clients", "users", "payers", "balances", "services", "invoice_series"):
        rows = data[name]
        columns = sorted({key for row in rows for key in row})
        with (tmp_path / f"{name}.csv").open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            for row in rows:
                writer.writerow(
                    {
                        k: ";".join(v)
                        if isinstance(v, list)
                        else int(v)
                        if v is True or v is False
                        else v
                        for k, v in row.items()
                    }
                )

    assert read_bundle(tmp_path) == parse_bundle(sample())


def test_progress_is_reported_per_kind(mapping: Mapping) -> None:
    seen: list[tuple[str, int, int]] = []

    import_bundle(
        parse_bundle(sample()), mapping, dry_run=False, progress=lambda *a: seen.append(a)
    )

    assert ("client", 2, 2) in seen and ("service", 3, 3) in seen and ("records", 12, 12) in seen
