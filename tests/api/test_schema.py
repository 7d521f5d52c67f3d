"""schemathesis against the OpenAPI schema, in-process through the WSGI app, authenticated with a
token of a seeded client (and of a staff user for the staff routes): no 5xx, every response
(status, content type, body) as documented. Bounded: 25 examples per operation."""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from billow.api.scopes import SCOPES
from tests.api.conftest import bearer, make_tenant

CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _load() -> Any:
    """The schema /api/schema/ serves (generated in-process: no DB needed at collection)."""
    from drf_spectacular.generators import SchemaGenerator
    from rest_framework.renderers import JSONRenderer

    raw = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(json.loads(JSONRenderer().render(raw)))
    loaded.app = get_wsgi_application()
    return loaded


schema = _load()


@pytest.fixture(autouse=True)
def _keep_test_connection() -> Any:
    """The WSGI app fires request_started/finished, whose handler would close the test's
    connection (it is inside the test transaction); Django's test client disconnects it too."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def seeded(db: Any, staff_user: Any) -> dict[str, str]:
    tenant = make_tenant("S")
    staff_scopes = [s for s in SCOPES if s.startswith("staff:")]
    staff_token = bearer(staff_user, staff_scopes)._credentials["HTTP_AUTHORIZATION"]
    return {"client": f"Bearer {tenant.raw_token}", "staff": staff_token}


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.django_db
def test_api_conforms_to_its_schema(case: Any, seeded: dict[str, str]) -> None:
    who = "staff" if case.path.startswith("/api/v1/staff/") else "client"
    case.call_and_validate(headers={"Authorization": seeded[who]}, checks=CHECKS)
