"""The billing statement: ledger entries of the client's balances, with a CSV export."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from decimal import Decimal

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from billow.accounts.models import ClientPermission
from billow.core.money import exponent
from billow.ledger.models import TransactionKind
from billow.ledger.selectors import list_statement_for_client
from billow.web import selectors
from billow.web.access import client_of, client_view

BILLING = ClientPermission.BILLING


def _currency(request: HttpRequest) -> str:
    value = request.GET.get("currency", "").upper()
    return value if len(value) == 3 and value.isalpha() else ""


@client_view(BILLING)
@require_GET
def statement(request: HttpRequest) -> HttpResponse:
    client = client_of(request)
    currency = _currency(request)
    entries = list_statement_for_client(client.pk, currency=currency)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "currency": currency,
        "balances": sorted(selectors.get_balances(client).items()),
        "kinds": dict(TransactionKind.choices),
    }
    return render(request, "web/billing/statement.html", context)


class _Echo:
    def write(self, value: str) -> str:
        return value


@client_view(BILLING)
@require_GET
def statement_csv(request: HttpRequest) -> StreamingHttpResponse:
    """All entries as CSV (amounts as exact decimals, newest first), streamed."""
    entries = list_statement_for_client(client_of(request).pk, currency=_currency(request))
    writer = csv.writer(_Echo())

    def rows() -> Iterator[str]:
        yield writer.writerow(["date", "kind", "description", "amount", "currency", "entry_id"])
        for e in entries.iterator(chunk_size=1000):
            amount = Decimal(e.amount_minor).scaleb(-exponent(e.currency))
            t = e.transaction
            yield writer.writerow(
                [t.created_at.date().isoformat(), t.kind, t.memo, f"{amount:f}", e.currency, e.pk]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="statement.csv"'
    return response
