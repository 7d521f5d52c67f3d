"""Authenticated CSV and API responses carry ``Cache-Control: private, no-store`` (PDFs: see
tests/core/test_privacy.py)."""

from __future__ import annotations

import pytest
from django.test import Client as WebClient

from tests.api.conftest import Tenant

pytestmark = pytest.mark.django_db


def _directives(value: str) -> set[str]:
    return {part.strip() for part in value.split(",") if part.strip()}


def test_the_statement_csv_is_private_and_not_stored(tenant_a: Tenant) -> None:
    web = WebClient()
    web.force_login(tenant_a.owner.user)
    response = web.get("/billing/statement.csv")
    assert response.status_code == 200
    assert {"private", "no-store"} <= _directives(response["Cache-Control"])


def test_api_answers_are_private_and_not_stored(tenant_a: Tenant) -> None:
    response = tenant_a.api().get("/api/v1/balances/")
    assert response.status_code == 200
    assert {"private", "no-store"} <= _directives(response["Cache-Control"])
    refused = WebClient().get("/api/v1/balances/")  # an error answer too
    assert {"private", "no-store"} <= _directives(refused["Cache-Control"])
