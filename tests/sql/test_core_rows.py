"""billow/core/rows.py: ``insert`` writes the rows ``bulk_create`` writes (amounts near 2**62)
and refuses a model with save receivers; the 64-bit helpers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db.models import F
from django.db.models.signals import post_save, pre_save
from django.forms.models import model_to_dict

from billow.core import rows
from billow.core.errors import ValidationError
from billow.core.money import MAX_MINOR
from billow.invoicing.models import Invoice, InvoiceLine
from billow.ledger.models import LedgerAccount
from tests.orders.shop import Shop
from tests.sql.conftest import BIG

pytestmark = pytest.mark.django_db

MOMENT = datetime(2026, 11, 29, 12, 30, tzinfo=UTC)


def invoice(shop: Shop, number: int) -> Invoice:
    return Invoice(
        provider=shop.provider,
        client=shop.client(n=number),
        year=2026,
        number=number,
        currency="USD",
        subtotal_minor=BIG,
        tax_minor=MAX_MINOR - BIG,
        total_minor=MAX_MINOR,
        payer_snapshot={"name": "Ann", "big": BIG},
        provider_snapshot={"name": "Cloudy"},
        reference=f"order:{number}",
        issued_at=MOMENT,
    )


def test_insert_writes_the_rows_bulk_create_writes(binding: str) -> None:
    shop = Shop()
    (by_orm,) = Invoice.objects.bulk_create([invoice(shop, 1)])
    (by_insert,) = rows.insert([invoice(shop, 2)])
    skip = ["id", "client", "number", "reference"]
    stored_orm = model_to_dict(Invoice.objects.get(pk=by_orm.pk), exclude=skip)
    stored_insert = model_to_dict(Invoice.objects.get(pk=by_insert.pk), exclude=skip)
    assert stored_insert == stored_orm
    assert (stored_insert["subtotal_minor"], stored_insert["total_minor"]) == (BIG, MAX_MINOR)
    assert stored_insert["payer_snapshot"] == {"name": "Ann", "big": BIG}


@pytest.fixture
def receiver_on_lines() -> Iterator[list[Any]]:
    seen: list[Any] = []

    def record(sender: Any, **kwargs: Any) -> None:
        seen.append(kwargs["instance"])

    post_save.connect(record, sender=InvoiceLine, dispatch_uid="test-rows-receiver")
    try:
        yield seen
    finally:
        post_save.disconnect(sender=InvoiceLine, dispatch_uid="test-rows-receiver")


def test_insert_refuses_a_model_with_save_receivers(receiver_on_lines: list[Any]) -> None:
    # given an invoice and a post_save receiver on its lines
    shop = Shop()
    (inv,) = rows.insert([invoice(shop, 1)])
    line = InvoiceLine(
        invoice=inv,
        position=1,
        description="x",
        quantity=1,
        unit_price_minor=1,
        net_minor=1,
        tax_minor=0,
        total_minor=1,
    )
    # when rows.insert is asked to write a line, then it refuses and writes nothing
    with pytest.raises(rows.HasSaveReceiversError) as refused:
        rows.insert([line])
    assert refused.value.code == "model_has_save_receivers"
    assert line.pk is None and not InvoiceLine.objects.exists() and receiver_on_lines == []


def test_a_pre_save_receiver_for_every_sender_counts_too() -> None:
    def anything(sender: Any, **kwargs: Any) -> None:
        pass

    pre_save.connect(anything, dispatch_uid="test-rows-any")
    try:
        with pytest.raises(rows.HasSaveReceiversError):
            rows.check_no_save_receivers(InvoiceLine)
    finally:
        pre_save.disconnect(dispatch_uid="test-rows-any")
    rows.check_no_save_receivers(InvoiceLine)  # none left


def test_the_64_bit_helpers() -> None:
    assert rows.check_int64(MAX_MINOR) == MAX_MINOR
    for out in (MAX_MINOR + 1, -MAX_MINOR - 1):
        with pytest.raises(ValidationError) as refused:
            rows.check_int64(out)
        assert refused.value.code == "amount_out_of_range"
    with pytest.raises(ValidationError):
        rows.bigint(2**63)


@pytest.mark.parametrize(
    ("value", "delta", "fits"),
    [
        (BIG, MAX_MINOR - BIG, True),
        (BIG, MAX_MINOR - BIG + 1, False),
        (MAX_MINOR - 5, 5, True),
        (MAX_MINOR - 5, 6, False),
        (-MAX_MINOR + 5, -5, True),
        (-MAX_MINOR + 5, -6, False),
        (MAX_MINOR, -MAX_MINOR, True),
        (-MAX_MINOR, MAX_MINOR, True),
    ],
)
def test_fits_int64_decides_without_overflowing(
    binding: str, value: int, delta: int, fits: bool
) -> None:
    conn = rows.connection_for(LedgerAccount)
    condition = rows.fits_int64("CAST(%s AS BIGINT)", "CAST(%s AS BIGINT)")
    with conn.cursor() as cursor:
        cursor.execute(
            f"SELECT CASE WHEN {condition} THEN 1 ELSE 0 END", [delta, value, delta, value, delta]
        )
        assert bool(cursor.fetchone()[0]) is fits


class ReplicaReads:
    """A router sending ledger reads to a replica, writes to the primary."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return "replica" if model is LedgerAccount else None

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        return "primary" if model is LedgerAccount else None


def test_names_are_quoted_and_the_alias_is_the_routers(settings: Any) -> None:
    conn = rows.connection_for(LedgerAccount)
    assert rows.table(LedgerAccount, conn) == '"ledger_ledgeraccount"'
    assert rows.column(LedgerAccount, "client", conn) == '"client_id"'
    assert rows.alias_for(LedgerAccount) == "default"
    settings.DATABASE_ROUTERS = [f"{__name__}.ReplicaReads"]
    assert rows.alias_for(LedgerAccount) == "primary"
    assert rows.alias_for(LedgerAccount, write=False) == "replica"
    assert rows.alias_for(InvoiceLine) == "default"


def test_the_binding_fixture_switches_the_tests_connection(binding: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        server_side = type(cursor.cursor).__name__ == "ServerBindingCursor"
    # (a suite run with DB_SERVER_SIDE_BINDING=1 binds server-side throughout)
    configured = connection.settings_dict["OPTIONS"].get("server_side_binding") is True
    assert server_side is (binding == "server_binding" or configured)
    # a seeded 10**12 comes back whole through the ORM's F() path (it came back as
    # -727,379,968 with server-side binding while the delta was typed INTEGER)
    account = LedgerAccount.objects.create(kind="adjustments", currency="USD")
    LedgerAccount.objects.filter(pk=account.pk).update(balance_minor=rows.bigint(10**12))
    LedgerAccount.objects.filter(pk=account.pk).update(
        balance_minor=F("balance_minor") + rows.bigint(10**12)
    )
    assert LedgerAccount.objects.get(pk=account.pk).balance_minor == 2 * 10**12


def test_write_new_writes_the_rows_bulk_create_writes(binding: str) -> None:
    """The import's bulk path: COPY on PostgreSQL (ids from the sequence, omitted columns at
    their field defaults, JSON as text), ``bulk_create`` on SQLite -- the same stored rows."""
    shop = Shop()
    fields = (
        "provider_id",
        "client_id",
        "year",
        "number",
        "currency",
        "subtotal_minor",
        "tax_minor",
        "total_minor",
        "payer_snapshot",
        "provider_snapshot",
        "reference",
        "issued_at",
    )
    made = [invoice(shop, n) for n in (1, 2)]
    values = [tuple(getattr(inv, f) for f in fields) for inv in made]
    (by_orm,) = Invoice.objects.bulk_create([invoice(shop, 3)])

    ids = rows.write_new(Invoice, fields, values, with_ids=True)
    rows.write_new(Invoice, fields, [(*values[0][:3], 4, *values[0][4:])])  # without ids

    assert len(ids) == 2 and ids[0] < ids[1]
    skip = ["id", "client", "number", "reference"]
    stored_orm = model_to_dict(Invoice.objects.get(pk=by_orm.pk), exclude=skip)
    for pk in ids:
        assert model_to_dict(Invoice.objects.get(pk=pk), exclude=skip) == stored_orm
    assert model_to_dict(Invoice.objects.get(number=4), exclude=skip) == stored_orm
    assert Invoice.objects.get(pk=ids[1]).payer_snapshot == {"name": "Ann", "big": BIG}
