"""The client area and the API show one statement: ``ledger.selectors.list_statement_for_client``.

Given a client with entries in two currencies (and another client with entries of their own),
when the statement is read through the web page, its CSV and the API, then all three list the
same entries, newest first, also when filtered by currency.
"""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client as WebClient

from billow.ledger.actions import adjust_client_balance
from billow.ledger.models import AccountKind, LedgerEntry
from billow.ledger.selectors import get_or_create_account, list_statement_for_client
from tests.api.conftest import Tenant

pytestmark = pytest.mark.django_db


def _with_euro_entries(tenant: Tenant) -> None:
    euros = get_or_create_account(
        kind=AccountKind.CLIENT_BALANCE,
        currency="EUR",
        client=tenant.client,
        provider=tenant.world.provider,
    )
    adjust_client_balance(
        account=euros, amount_minor=700, direction="credit", reason="gift", nonce="eur-1"
    )
    adjust_client_balance(
        account=euros, amount_minor=200, direction="debit", reason="fee", nonce="eur-2"
    )


def _web(tenant: Tenant) -> WebClient:
    web = WebClient()
    web.force_login(tenant.owner.user)
    return web


def _web_ids(tenant: Tenant, query: str = "") -> list[int]:
    page = _web(tenant).get(f"/billing/{query}").context["page"]
    return [entry.pk for entry in page.object_list]


def _csv_ids(tenant: Tenant, query: str = "") -> list[int]:
    response = _web(tenant).get(f"/billing/statement.csv{query}")
    text = b"".join(response.streaming_content).decode()
    return [int(row["entry_id"]) for row in csv.DictReader(io.StringIO(text))]


def _api_ids(tenant: Tenant, query: str = "") -> list[int]:
    body = tenant.api().get(f"/api/v1/statement/{query}").json()
    return [row["id"] for row in body["results"]]


def test_web_csv_and_api_list_the_same_entries(tenant_a: Tenant, tenant_b: Tenant) -> None:
    _with_euro_entries(tenant_a)
    expected = list(
        LedgerEntry.objects.filter(
            account__client=tenant_a.client, account__kind=AccountKind.CLIENT_BALANCE
        )
        .order_by("-id")
        .values_list("id", flat=True)
    )

    assert len(expected) == 4  # USD top-up and charge, EUR credit and debit
    assert _web_ids(tenant_a) == _csv_ids(tenant_a) == _api_ids(tenant_a) == expected


def test_the_currency_filter_is_the_same_everywhere(tenant_a: Tenant, tenant_b: Tenant) -> None:
    _with_euro_entries(tenant_a)
    euro_ids = list(
        LedgerEntry.objects.filter(account__client=tenant_a.client, currency="EUR")
        .order_by("-id")
        .values_list("id", flat=True)
    )

    assert len(euro_ids) == 2
    assert _web_ids(tenant_a, "?currency=EUR") == euro_ids
    assert _csv_ids(tenant_a, "?currency=EUR") == euro_ids
    assert _api_ids(tenant_a, "?currency=EUR") == euro_ids


def test_the_selector_filters_by_kind_and_never_shows_another_client(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    rows = list_statement_for_client(tenant_a.client.pk, kind="charge")

    assert [(e.account.client_id, e.amount_minor, e.transaction.kind) for e in rows] == [
        (tenant_a.client.pk, -1000, "charge")
    ]
    assert list(list_statement_for_client(tenant_a.client.pk, currency="EUR")) == []
