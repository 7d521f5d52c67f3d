"""Tokens (hash only, scopes, revoke, expiry) and the one error shape."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from billow.accounts.models import AccountEvent
from billow.api import errors
from billow.api.actions import create_api_token, revoke_api_token
from billow.api.models import ApiToken
from billow.core import clock
from tests.api.conftest import Tenant

pytestmark = pytest.mark.django_db


def with_token(raw: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return api


def test_only_the_hash_is_stored_and_the_token_authenticates(tenant_a: Tenant) -> None:
    token, raw = create_api_token(user=tenant_a.owner.user, name="ci", scopes=["services:read"])
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in str(ApiToken.objects.filter(pk=token.pk).values().get())
    assert raw.startswith(f"blw_{token.prefix}_")
    assert with_token(raw).get("/api/v1/services/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert AccountEvent.objects.filter(type="api_token.created", client=tenant_a.client).exists()


def test_write_scope_implies_read_but_not_the_other_way(tenant_a: Tenant) -> None:
    _t, write = create_api_token(user=tenant_a.owner.user, name="w", scopes=["payers:write"])
    _t, read = create_api_token(user=tenant_a.owner.user, name="r", scopes=["payers:read"])
    assert with_token(write).get("/api/v1/payers/").status_code == 200
    r = with_token(read).post("/api/v1/payers/", {"kind": "individual", "name": "X"}, format="json")
    assert (r.status_code, r.json()["message"]) == (403, "The token lacks the scope payers:write.")


def test_revoked_and_expired_tokens_are_401(tenant_a: Tenant) -> None:
    token, raw = create_api_token(user=tenant_a.owner.user, name="x", scopes=["services:read"])
    revoke_api_token(token=token)
    r = with_token(raw).get("/api/v1/services/")
    assert (r.status_code, r.json()["code"]) == (401, "not_authenticated")
    with pytest.raises(errors.TokenRevoked):
        revoke_api_token(token=token)
    token2, raw2 = create_api_token(
        user=tenant_a.owner.user,
        name="y",
        scopes=["services:read"],
        expires_at=clock.now() + timedelta(hours=1),
    )
    ApiToken.objects.filter(pk=token2.pk).update(expires_at=clock.now() - timedelta(seconds=1))
    assert with_token(raw2).get("/api/v1/services/").status_code == 401
    assert with_token(raw2 + "x").get("/api/v1/services/").status_code == 401


def test_scope_rules_refuse_and_create_nothing(tenant_a: Tenant) -> None:
    n = ApiToken.objects.count()
    with pytest.raises(errors.InvalidScope):
        create_api_token(user=tenant_a.owner.user, name="x", scopes=["root:write"])
    with pytest.raises(errors.ScopeNotAllowed):
        create_api_token(user=tenant_a.owner.user, name="x", scopes=["staff:read"])
    assert ApiToken.objects.count() == n


def test_tokens_are_managed_from_a_session_only(tenant_a: Tenant) -> None:
    session = APIClient()
    session.force_login(tenant_a.owner.user)
    r = session.post(
        "/api/v1/tokens/", {"name": "deploy", "scopes": ["services:read"]}, format="json"
    )
    assert r.status_code == 201
    assert r.json()["token"].startswith(f"blw_{r.json()['prefix']}_")
    assert "token" not in session.get(f"/api/v1/tokens/{r.json()['id']}/").json()
    by_token = tenant_a.api().get("/api/v1/tokens/")
    assert by_token.status_code == 403
    assert session.delete(f"/api/v1/tokens/{r.json()['id']}/").status_code == 204


def test_session_writes_need_the_csrf_token(tenant_a: Tenant) -> None:
    api = APIClient(enforce_csrf_checks=True)
    api.force_login(tenant_a.owner.user)
    r = api.post("/api/v1/payers/", {"kind": "individual", "name": "X"}, format="json")
    assert (r.status_code, r.json()["code"]) == (403, "permission_denied")
    assert "CSRF" in r.json()["message"]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    [
        ("get", "/api/v1/services/", {}, 401, "not_authenticated"),
        ("delete", "/api/v1/services/", {}, 405, "method_not_allowed"),
        (
            "post",
            "/api/v1/payers/",
            {"data": "a=b", "content_type": "application/x-www-form-urlencoded"},
            415,
            "unsupported_media_type",
        ),
        (
            "post",
            "/api/v1/payers/",
            {"data": "{nope", "content_type": "application/json"},
            400,
            "parse_error",
        ),
        ("get", "/api/v1/services/999999/", {}, 404, "not_found"),
        ("get", "/api/v1/nothing-here/", {}, 404, "not_found"),
    ],
)
def test_error_shape(
    tenant_a: Tenant, method: str, path: str, kwargs: dict[str, Any], status: int, code: str
) -> None:
    api = APIClient() if status == 401 else tenant_a.api()
    r = getattr(api, method)(path, **kwargs)
    assert r.status_code == status
    assert set(r.json()) == {"code", "message", "details"}
    assert r.json()["code"] == code


def test_throttled_requests_get_429_with_retry_after(tenant_a: Tenant, settings: Any) -> None:
    rates = {"anon": "2/min", "user": "2/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    api = tenant_a.api()
    codes = [api.get("/api/v1/me/").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    r = api.get("/api/v1/me/")
    assert r.json()["code"] == "throttled"
    assert int(r["Retry-After"]) > 0


def test_docs_and_schema_are_served_without_a_cdn(client: Any) -> None:
    page = client.get("/api/docs/")
    assert page.status_code == 200
    assert b"/static/api/swagger-ui/swagger-ui-bundle.js" in page.content
    assert b"https://" not in page.content
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/v1/services/" in schema.content
