"""billow/invoicing/sql.py: the counter bump numbers as the ORM's lock-and-increment does."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.db.models import F

from billow.accounts.models import Provider
from billow.invoicing import sql
from billow.invoicing.models import DocumentCounter, DocumentKind

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
