"""``list_statement_for_client``: date order, the running balance and the date filter.

Given a client with a USD and a EUR balance whose entries were posted out of date order (a
catch-up posting dated before the rows above it), and another client, when the statement is
read whole, a page at a time, by days and by kind, then the rows are in date order (ties by id)
and every row's balance is the client's balance in its currency right after it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.paginator import Paginator

from billow.accounts.models import Client, Provider
from billow.ledger.actions import post_transaction
from billow.ledger.errors import LedgerValidationError
from billow.ledger.models import AccountKind, LedgerAccount, LedgerEntry
from billow.ledger.selectors import get_or_create_account, list_statement_for_client
from billow.ledger.statement import describe_statement

pytestmark = pytest.mark.django_db

Row = tuple[str, str, int, int]  # (day, currency, amount, balance after)


class Book:
    def __init__(self, provider: Provider, client: Client) -> None:
        self.provider, self.client, self.n = provider, client, 0

    def account(self, currency: str, client: Client | None = None) -> LedgerAccount:
        return get_or_create_account(
            kind=AccountKind.CLIENT_BALANCE,
            currency=currency,
            client=client or self.client,
            provider=self.provider,
        )

    def post(self, when: datetime, amount: int, currency: str = "USD", **kw: object) -> None:
        self.n += 1
        other = get_or_create_account(
            kind=AccountKind.PROVIDER_REVENUE, currency=currency, provider=self.provider
        )
        wallet = self.account(currency, kw.get("client"))  # type: ignore[arg-type]
        with time_machine.travel(when, tick=False):
            post_transaction(
                kind=str(kw.get("kind", "payment" if amount > 0 else "charge")),
                legs=[(wallet, amount), (other, -amount)],
                idempotency_key=f"statement-{self.n}",
                memo=f"row {self.n}",
            )


def noon(day: int) -> datetime:
    return datetime(2027, 3, day, 12, tzinfo=UTC)


@pytest.fixture
def book(provider: Provider, make_client: Callable[..., Client]) -> Book:
    b = Book(provider, make_client())
    other = make_client()
    b.post(noon(1), 1000)
    b.post(noon(5), -300)
    b.post(noon(2), 700, "EUR")
    b.post(noon(3), -200)  # posted after the 5th, dated before it
    b.post(noon(4), 999, client=other)  # another client's row: never listed
    b.post(datetime(2027, 3, 7, 23, 59, 59, tzinfo=UTC), 500)
    b.post(datetime(2027, 3, 8, 0, 0, tzinfo=UTC), -100)
    b.post(noon(9), 50, "EUR")
    return b


ALL: list[Row] = [
    ("2027-03-01", "USD", 1000, 1000),
    ("2027-03-02", "EUR", 700, 700),
    ("2027-03-03", "USD", -200, 800),
    ("2027-03-05", "USD", -300, 500),
    ("2027-03-07", "USD", 500, 1000),
    ("2027-03-08", "USD", -100, 900),
    ("2027-03-09", "EUR", 50, 750),
]


def rows(entries: object) -> list[Row]:
    return [
        (
            e.transaction.created_at.date().isoformat(),
            e.currency,
            e.amount_minor,
            e.balance_minor,
        )
        for e in entries  # type: ignore[attr-defined]
    ]


def test_rows_are_in_date_order_with_the_balance_after_each(book: Book) -> None:
    assert rows(list_statement_for_client(book.client.pk)) == ALL
    # the last balance of each currency is the cached balance
    assert book.account("USD").balance_minor == 900
    assert book.account("EUR").balance_minor == 750


def test_the_balance_is_the_same_on_every_page(book: Book) -> None:
    pages = Paginator(list_statement_for_client(book.client.pk), 3)

    assert [rows(pages.page(n).object_list) for n in pages.page_range] == [
        ALL[0:3],
        ALL[3:6],
        ALL[6:7],
    ]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        # days are inclusive, in UTC: 23:59:59 on the 7th is in, 00:00 on the 8th is not
        ({"date_from": date(2027, 3, 3), "date_to": date(2027, 3, 7)}, ALL[2:5]),
        ({"date_from": date(2027, 3, 8)}, ALL[5:7]),
        ({"date_to": date(2027, 3, 2)}, ALL[0:2]),
        ({"currency": "EUR", "date_from": date(2027, 3, 3)}, ALL[6:7]),
        ({"date_from": date(2027, 4, 1)}, []),
        # a kind filter hides rows in between; each balance still counts them
        ({"kind": "charge"}, [ALL[2], ALL[3], ALL[5]]),
        ({"kind": "charge", "date_from": date(2027, 3, 4)}, [ALL[3], ALL[5]]),
        ({"kind": "payment", "currency": "EUR"}, [ALL[1], ALL[6]]),
    ],
)
def test_filters_keep_the_running_balance(
    book: Book, filters: dict[str, object], expected: list[Row]
) -> None:
    listed = list_statement_for_client(book.client.pk, **filters)  # type: ignore[arg-type]

    assert rows(listed) == expected


def test_the_filtered_pages_keep_the_balance_too(book: Book) -> None:
    listed = list_statement_for_client(book.client.pk, date_from=date(2027, 3, 2))
    pages = Paginator(listed, 2)

    assert rows(pages.page(2).object_list) == ALL[3:5]
    assert pages.count == 6


def test_a_start_after_the_end_is_refused(book: Book) -> None:
    with pytest.raises(LedgerValidationError) as refused:
        list_statement_for_client(
            book.client.pk, date_from=date(2027, 3, 8), date_to=date(2027, 3, 7)
        )

    assert refused.value.code == "invalid_date_range"


def test_a_row_nobody_describes_shows_its_kind_and_memo(book: Book) -> None:
    entries = list_statement_for_client(book.client.pk, currency="EUR")

    lines = describe_statement(entries)

    assert [(line.description, line.balance_minor) for line in lines] == [
        ("Payment: row 3", 700),
        ("Payment: row 8", 750),
    ]
    assert LedgerEntry.objects.count() == 16  # nothing written by reading
