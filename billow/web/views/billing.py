"""The billing statement: ledger entries of the client's balances in date order, each with what
happened and the balance after it, filtered by currency and days; with a CSV export."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from billow.accounts.models import ClientPermission
from billow.core.csvsafe import csv_writer
from billow.core.money import Money
from billow.ledger.models import LedgerEntry
from billow.ledger.selectors import list_statement_for_client
from billow.ledger.statement import describe_statement
from billow.web import selectors
from billow.web.access import client_of, client_view
from billow.web.forms import StatementFilterForm

BILLING = ClientPermission.BILLING
PAGE_SIZE = 50
CSV_CHUNK = 1000
CSV_COLUMNS = [
    "date",
    "kind",
    "description",
    "amount",
    "currency",
    "balance",
    "entry_id",
    "transaction_id",
]


def _entries(request: HttpRequest, filters: StatementFilterForm) -> Any:
    data = filters.cleaned_data
    return list_statement_for_client(
        client_of(request).pk,
        currency=data["currency"],
        date_from=data["date_from"],
        date_to=data["date_to"],
    )


@client_view(BILLING)
@require_GET
def statement(request: HttpRequest) -> HttpResponse:
    """Oldest first, like a printed statement; without ``?page=`` it opens on the last page,
    so the latest row, whose balance is the balance shown above, is on screen."""
    client = client_of(request)
    filters = StatementFilterForm(request.GET)
    page, lines = None, []
    if filters.is_valid():
        paginator = Paginator(_entries(request, filters), PAGE_SIZE)
        page = paginator.get_page(request.GET.get("page") or paginator.num_pages)
        lines = describe_statement(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filters": filters,
        "page": page,
        "lines": lines,
        "query": query.urlencode(),
        "currency": filters.cleaned_data.get("currency", "") if filters.is_valid() else "",
        "balances": sorted(selectors.get_balances(client).items()),
    }
    return render(request, "web/billing/statement.html", context, status=200 if page else 400)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _amount(amount_minor: int, currency: str) -> str:
    return f"{Money(int(amount_minor), currency).to_decimal():f}"


@client_view(BILLING)
@require_GET
def statement_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The filtered statement as CSV, in the page's order (oldest first), amounts and balances
    as exact decimals, streamed in chunks (each chunk described in a fixed number of queries)."""
    filters = StatementFilterForm(request.GET)
    if not filters.is_valid():
        errors = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in filters.errors.items())
        return HttpResponseBadRequest(
            _("Invalid filter: %(errors)s") % {"errors": errors},
            content_type="text/plain; charset=utf-8",
        )
    entries = _entries(request, filters).iterator(chunk_size=CSV_CHUNK)
    writer = csv_writer(_Echo())  # formula-looking cells neutralised
    language = translation.get_language()

    def rows() -> Iterator[str]:
        yield writer.writerow(CSV_COLUMNS)
        # The body is produced after the view returned: keep the request's language.
        with translation.override(language):
            while chunk := list(islice(entries, CSV_CHUNK)):
                for line in describe_statement(chunk):
                    yield writer.writerow(_csv_row(line.entry, line.description))

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="statement.csv"'
    return response


def _csv_row(e: LedgerEntry, description: str) -> list[Any]:
    t = e.transaction
    return [
        t.created_at.date().isoformat(),
        t.kind,
        description,
        _amount(e.amount_minor, e.currency),
        e.currency,
        _amount(e.balance_minor, e.currency),  # type: ignore[attr-defined]
        e.pk,
        t.pk,
    ]
