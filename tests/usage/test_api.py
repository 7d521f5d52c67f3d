"""``POST /api/v1/usage/records``: who may send, both formats, errors per record, streaming."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from billow.core.actors import Actor
from billow.services.models import Service
from billow.usage import parsing
from billow.usage.actions import create_ingest_token, revoke_ingest_token
from billow.usage.models import Meter, UsageRecord
from billow.usage.selectors import month_total
from tests.api.conftest import bearer
from tests.usage.conftest import jsonl

pytestmark = pytest.mark.django_db
URL = "/api/v1/usage/records"
STAFF = Actor.system("test")


def rec(service: Service, hour: int, value: Any = 1, parameter: str = "traffic_in") -> dict:
    ts = f"2027-03-01T{hour:02d}:00:00Z"
    return {"service": service.pk, "parameter": parameter, "ts": ts, "value": value}


@pytest.fixture
def staff_api(db: Any) -> APIClient:
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-123456")
    return bearer(user, ["staff:write"])


def post(api: APIClient, body: bytes, content_type: str = "application/x-ndjson") -> Any:
    return api.generic("POST", URL, body, content_type=content_type)


def test_staff_send_json_lines(staff_api: APIClient, service: Service, traffic: Meter) -> None:
    body = jsonl([rec(service, 1, "2.5"), rec(service, 2, 1, "traffic_out")])
    body += jsonl(
        [{"service": 404_404, "parameter": "x", "ts": "2027-03-01T01:00:00Z", "value": 1}]
    )

    response = post(staff_api, body)

    assert response.status_code == 200
    assert response.json() == {
        "received": 3,
        "accepted": 2,
        "duplicates": 0,
        "rejected": 1,
        "errors": [
            {
                "line": 3,
                "code": "unknown_service",
                "message": "No such service (or not one of this module instance's services).",
                "service": 404_404,
            }
        ],
        "errors_truncated": False,
    }
    assert month_total(service, traffic, date(2027, 3, 1)) == Decimal("3.5")
    assert post(staff_api, body).json()["duplicates"] == 2


def test_staff_send_csv(staff_api: APIClient, service: Service, traffic: Meter) -> None:
    body = f"service,parameter,ts,value\n{service.pk},traffic_in,2027-03-01T01:00:00Z,4\n"

    response = post(staff_api, body.encode(), "text/csv")

    assert (response.status_code, response.json()["accepted"]) == (200, 1)


def test_another_body_type_is_refused(staff_api: APIClient, service: Service) -> None:
    response = post(staff_api, b"{}", "application/xml")

    assert (response.status_code, response.json()["code"]) == (415, "usage_unsupported_media_type")
    assert not UsageRecord.objects.exists()


def test_a_csv_without_the_columns_is_refused(staff_api: APIClient, service: Service) -> None:
    response = post(staff_api, b"service,ts\n1,2\n", "text/csv")

    assert (response.status_code, response.json()["code"]) == (400, "usage_bad_format")
    assert not UsageRecord.objects.exists()


def test_a_module_instance_token_sends_for_its_services_only(
    service: Service, traffic: Meter
) -> None:
    token, raw = create_ingest_token(
        module_instance_id=service.module_instance_id, name="agent", actor=STAFF
    )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    ok = post(api, jsonl([rec(service, 1)]))
    revoke_ingest_token(token=token, actor=STAFF)
    refused = post(api, jsonl([rec(service, 2)]))

    assert (ok.status_code, ok.json()["accepted"]) == (200, 1)
    assert refused.status_code == 401
    assert UsageRecord.objects.count() == 1


def test_client_users_and_strangers_may_not_send(service: Service, traffic: Meter) -> None:
    from billow.accounts.models import ClientUser

    user = get_user_model().objects.create_user("ann", "ann@example.com", "pw-123456")
    ClientUser.objects.create(user=user, client=service.client, is_owner=True)
    client_api = bearer(user, ["services:write"])
    forged = APIClient()
    forged.credentials(HTTP_AUTHORIZATION="Bearer bmi_nothere_secret")

    assert post(client_api, jsonl([rec(service, 1)])).status_code == 403
    assert post(APIClient(), jsonl([rec(service, 1)])).status_code == 401
    assert post(forged, jsonl([rec(service, 1)])).status_code == 401
    assert not UsageRecord.objects.exists()


def test_the_body_is_read_in_chunks(
    staff_api: APIClient, service: Service, traffic: Meter, monkeypatch: Any, settings: Any
) -> None:
    """The parser never asks the request for more than a chunk; batches commit as they fill."""
    monkeypatch.setattr(parsing, "CHUNK_BYTES", 4096)
    settings.BILLOW = {**settings.BILLOW, "USAGE_INGEST_BATCH": 500}
    reads: list[int] = []
    from django.core.handlers.wsgi import WSGIRequest

    original = WSGIRequest.read

    def spy(self: Any, *args: Any) -> bytes:
        data: bytes = original(self, *args)
        reads.append(len(data))
        return data

    monkeypatch.setattr(WSGIRequest, "read", spy)
    lines = [
        rec(service, hour % 12, 1) | {"event_id": f"e{n}"} for n, hour in enumerate(range(3000))
    ]
    body = jsonl(lines)

    response = post(staff_api, body)

    assert response.json()["accepted"] == 3000
    assert max(reads) <= 4096 and sum(reads) == len(body) and len(reads) > 20
    assert month_total(service, traffic, date(2027, 3, 1)) == Decimal("3000")
