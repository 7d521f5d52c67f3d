"""Deeply nested or oversized JSON bodies get 400 with the error shape before DRF parses them."""

from __future__ import annotations

import pytest

from billow.accounts.models import Payer
from billow.core.jsonlimits import MAX_JSON_BYTES
from tests.api.conftest import Tenant


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b'{"kind": "company", "name": ' + b"[" * 65 + b"]" * 65 + b"}", "json_too_deep"),
        (b'{"name": "' + b"x" * MAX_JSON_BYTES + b'"}', "json_too_large"),
    ],
)
def test_the_api_refuses_deep_and_oversized_bodies_before_parsing(
    tenant_a: Tenant, body: bytes, code: str
) -> None:
    before = Payer.objects.count()
    r = tenant_a.api().generic("POST", "/api/v1/payers/", body, content_type="application/json")
    assert (r.status_code, r.json()["code"]) == (400, code)
    assert Payer.objects.count() == before


@pytest.mark.django_db
def test_a_body_at_the_depth_limit_reaches_the_view(tenant_a: Tenant) -> None:
    body = b'{"kind": "company", "name": ' + b"[" * 63 + b"]" * 63 + b"}"
    r = tenant_a.api().generic("POST", "/api/v1/payers/", body, content_type="application/json")
    # the serializer answers (a list is no name): the limit let it through
    assert (r.status_code, r.json()["code"]) == (400, "validation_error")
