"""billow/invoicing/sql.py: the counter bump numbers as the ORM's lock-and-increment does; the
run's invoice and line inserts (COPY on PostgreSQL) store what ``bulk_create`` stores."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.db.models import F

from billow.accounts.models import Client, Provider
from billow.core.errors import BillowError
from billow.invoicing import sql
from billow.invoicing.models import DocumentCounter, DocumentKind, Invoice, InvoiceLine
from tests.sql.conftest import BIG

pytestmark = pytest.mark.django_db

#: The counter is a 32-bit column (PositiveIntegerField): its top is the "big" value here.
TOP = 2**31 - 1


def orm_bump(provider_id: int, year: int, kind: str, count: int = 1) -> int | None:
    found = DocumentCounter.objects.select_for_update().filter(
        provider_id=provider_id, year=year, kind=kind
    )
    if not found.update(last_number=F("last_number") + count):
        return None
    return found.get().last_number


def test_the_bump_numbers_as_the_orm(binding: str) -> None:
    provider = Provider.objects.create(name="P", code="p")
    DocumentCounter.objects.create(
        provider=provider, year=2027, kind=DocumentKind.INVOICE, last_number=TOP - 6
    )
    DocumentCounter.objects.create(provider=provider, year=2027, kind=DocumentKind.CREDIT_NOTE)
    results = []
    for bump in (sql.bump_counter, orm_bump):
        with transaction.atomic():
            numbers = [
                bump(provider.pk, 2027, DocumentKind.INVOICE),
                bump(provider.pk, 2027, DocumentKind.INVOICE, 5),  # a run's numbers at once
                bump(provider.pk, 2027, DocumentKind.CREDIT_NOTE),
                bump(provider.pk, 2026, DocumentKind.INVOICE),  # no counter row: None
            ]
            stored = sorted(DocumentCounter.objects.values_list("year", "kind", "last_number"))
            results.append((numbers, stored))
            transaction.set_rollback(True)
    assert results[0] == results[1]
    assert results[0][0] == [TOP - 5, TOP, 1, None]


MOMENT = datetime(2027, 3, 1, 12, 30, tzinfo=UTC)


def _invoice_rows(provider: Provider, client: Client) -> list[tuple[Any, ...]]:
    return [
        (
            provider.pk,
            client.pk,
            None,
            2027,
            n + 1,
            "paid" if n else "issued",
            "EUR",
            BIG - n,
            BIG // 5,
            BIG,
            json.dumps({"name": f"Client ü {n}", "country": "DE"}),
            json.dumps({"name": "Host"}),
            f"ref-{n}",
            MOMENT,
            MOMENT if n else None,
            n == 1,
        )
        for n in range(3)
    ]


def _stored_invoices() -> list[tuple[Any, ...]]:
    attrs = [Invoice._meta.get_field(f).get_attname() for f in sql.INVOICE_FIELDS]  # type: ignore[union-attr]
    return list(Invoice.objects.order_by("number").values_list(*attrs))


def test_the_invoice_insert_stores_what_bulk_create_stores(binding: str) -> None:
    provider = Provider.objects.create(name="P", code="p")
    client = Client.objects.create(name="C", email="c@example.com")
    rows = _invoice_rows(provider, client)
    attrs = [Invoice._meta.get_field(f).get_attname() for f in sql.INVOICE_FIELDS]  # type: ignore[union-attr]
    stored = []
    for write in ("sql", "orm"):
        with transaction.atomic():
            if write == "sql":
                sql.insert_invoice_rows(rows)
            else:
                Invoice.objects.bulk_create(
                    [
                        Invoice(
                            **{
                                a: (json.loads(v) if a.endswith("snapshot") else v)
                                for a, v in zip(attrs, r, strict=True)
                            }
                        )
                        for r in rows
                    ]
                )
            stored.append(_stored_invoices())
            transaction.set_rollback(True)
    assert stored[0] == stored[1]
    assert [r[7] for r in stored[0]] == [BIG, BIG - 1, BIG - 2]
    assert stored[0][0][10] == {"name": "Client ü 0", "country": "DE"}
    assert stored[0][1][13:] == (MOMENT, MOMENT, True)


def test_the_line_insert_stores_what_bulk_create_stores(binding: str) -> None:
    provider = Provider.objects.create(name="P", code="p")
    client = Client.objects.create(name="C", email="c@example.com")
    sql.insert_invoice_rows(_invoice_rows(provider, client)[:1])
    invoice = Invoice.objects.get()
    rows = [
        (
            invoice.pk,
            n + 1,
            f"VPS #{n}, 2027-03-01 - 2027-03-31",
            1,
            BIG - n,
            n,
            BIG - 2 * n,
            Decimal("19.000"),
            BIG // 10,
            BIG,
            None,
            date(2027, 3, 1),
            date(2027, 4, 1),
            Decimal("0.500000") if n else None,
            BIG if n else None,
        )
        for n in range(3)
    ]
    attrs = [InvoiceLine._meta.get_field(f).get_attname() for f in sql.LINE_FIELDS]  # type: ignore[union-attr]
    stored = []
    for write in ("sql", "orm"):
        with transaction.atomic():
            if write == "sql":
                sql.insert_line_rows(rows)
            else:
                InvoiceLine.objects.bulk_create(
                    [InvoiceLine(**dict(zip(attrs, r, strict=True))) for r in rows]
                )
            stored.append(list(InvoiceLine.objects.order_by("position").values_list(*attrs)))
            transaction.set_rollback(True)
    assert stored[0] == stored[1]
    assert [r[4] for r in stored[0]] == [BIG, BIG - 1, BIG - 2]
    assert stored[0][1][13:] == (Decimal("0.5"), BIG)


def test_a_line_past_the_64_bit_range_is_refused_and_nothing_written(binding: str) -> None:
    provider = Provider.objects.create(name="P", code="p")
    client = Client.objects.create(name="C", email="c@example.com")
    rows = _invoice_rows(provider, client)
    rows[1] = (*rows[1][:9], 2**63, *rows[1][10:])
    with pytest.raises(BillowError) as refused:
        sql.insert_invoice_rows(rows)
    assert refused.value.code == "amount_out_of_range"
    assert not Invoice.objects.exists()
