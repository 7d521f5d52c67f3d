"""billow.core.rows.insert writes what the ORM writes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.forms.models import model_to_dict

from billow.accounts.models import Provider
from billow.core.rows import insert
from billow.invoicing.models import Invoice, InvoiceLine
from tests.orders.shop import Shop

pytestmark = pytest.mark.django_db

MOMENT = datetime(2026, 11, 29, 12, 30, tzinfo=UTC)


def _invoice(shop: Shop, number: int) -> Invoice:
    client = shop.client(n=number)
    return Invoice(
        provider=shop.provider,
        client=client,
        year=2026,
        number=number,
        currency="USD",
        subtotal_minor=1000,
        tax_minor=190,
        total_minor=1190,
        payer_snapshot={"name": "Ann", "country": "DE", "tags": ["a", 1]},
        provider_snapshot={"name": "Cloudy"},
        reference=f"order:{number}",
        issued_at=MOMENT,
    )


def test_insert_writes_the_rows_the_orm_writes() -> None:
    shop = Shop()
    by_orm = Invoice.objects.bulk_create([_invoice(shop, 1)])[0]
    (by_insert,) = insert([_invoice(shop, 2)])
    assert by_insert.pk is not None and not by_insert._state.adding
    a = model_to_dict(
        Invoice.objects.get(pk=by_orm.pk), exclude=["id", "client", "number", "reference"]
    )
    b = model_to_dict(
        Invoice.objects.get(pk=by_insert.pk), exclude=["id", "client", "number", "reference"]
    )
    assert a == b
    assert b["payer_snapshot"] == {"name": "Ann", "country": "DE", "tags": ["a", 1]}
    assert b["status"] == "issued"  # the model default, as the ORM sets it


def test_insert_sets_keys_in_order_and_chunks_long_lists() -> None:
    shop = Shop()
    (invoice,) = insert([_invoice(shop, 1)])
    lines = [
        InvoiceLine(
            invoice=invoice,
            position=i,
            description=f"line {i}",
            quantity=1,
            unit_price_minor=i,
            net_minor=i,
            tax_minor=0,
            total_minor=i,
        )
        for i in range(1, 2502)  # three statements: at most 1000 rows go in one
    ]
    insert(lines)
    stored = dict(InvoiceLine.objects.values_list("pk", "position"))
    assert [stored[x.pk] for x in lines] == list(range(1, 2502))


def test_insert_refuses_saved_rows() -> None:
    saved = Provider.objects.create(name="P", code="p")
    with pytest.raises(TypeError):
        insert([saved])
