"""Idempotency-Key: replays, reuse with another body, in-progress and concurrent duplicates."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from billow.api.models import IdempotencyRecord
from billow.billing.models import Expense
from tests.api.conftest import MONTH_PRICE, Tenant, make_tenant
from tests.billing.world import db_state


@pytest.mark.django_db
def test_a_replay_returns_the_stored_response_and_charges_once(tenant_a: Tenant) -> None:
    api, url = tenant_a.api(), f"/api/v1/services/{tenant_a.service.pk}/renew/"
    first = api.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    balance = tenant_a.world.balance(tenant_a.client)
    second = api.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert tenant_a.world.balance(tenant_a.client) == balance
    assert Expense.objects.filter(service=tenant_a.service, reason="period").count() == 2


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_409_and_changes_nothing(tenant_a: Tenant) -> None:
    api, url = tenant_a.api(), f"/api/v1/services/{tenant_a.service.pk}/renew/"
    api.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    before = db_state()
    r = api.post(url, {"period": "3m"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert r.status_code == 409
    assert r.json()["code"] == "idempotency_key_reused"
    assert db_state() == before


@pytest.mark.django_db
def test_a_key_still_running_is_409_in_progress(tenant_a: Tenant) -> None:
    api, url = tenant_a.api(), f"/api/v1/services/{tenant_a.service.pk}/renew/"
    api.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    IdempotencyRecord.objects.filter(key="k-3").update(response_status=None, completed_at=None)
    r = api.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert (r.status_code, r.json()["code"]) == (409, "idempotency_key_in_progress")


@pytest.mark.django_db
def test_invalid_input_is_not_stored_so_the_key_can_be_retried(tenant_a: Tenant) -> None:
    api, url = tenant_a.api(), f"/api/v1/services/{tenant_a.service.pk}/renew/"
    bad = api.post(url, {"period": "7y"}, format="json", HTTP_IDEMPOTENCY_KEY="k-4")
    assert (bad.status_code, bad.json()["code"]) == (400, "validation_error")
    assert not IdempotencyRecord.objects.filter(key="k-4").exists()
    good = api.post(url, {"period": "1m"}, format="json", HTTP_IDEMPOTENCY_KEY="k-4")
    assert good.status_code == 200
    assert good.json()["expense"]["amount"]["amount_minor"] == MONTH_PRICE


@pytest.mark.django_db
def test_keys_are_per_user(tenant_a: Tenant, tenant_b: Tenant) -> None:
    a = tenant_a.api().post(
        f"/api/v1/services/{tenant_a.service.pk}/renew/",
        {},
        format="json",
        HTTP_IDEMPOTENCY_KEY="shared",
    )
    b = tenant_b.api().post(
        f"/api/v1/services/{tenant_b.service.pk}/renew/",
        {},
        format="json",
        HTTP_IDEMPOTENCY_KEY="shared",
    )
    assert (a.status_code, b.status_code) == (200, 200)
    assert IdempotencyRecord.objects.filter(key="shared").count() == 2


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_charge_once() -> None:
    # given one service and 8 threads sending the same renewal with one key at once
    tenant = make_tenant("C")
    url = f"/api/v1/services/{tenant.service.pk}/renew/"
    codes: list[int] = []
    barrier = threading.Barrier(8)

    def send() -> None:
        api = tenant.api()
        barrier.wait()
        codes.append(api.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="race").status_code)
        connection.close()

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then exactly one renewal was charged; the others replayed it or saw it in progress
    assert Expense.objects.filter(service=tenant.service, reason="period").count() == 2
    assert set(codes) <= {200, 409} and 200 in codes
    assert IdempotencyRecord.objects.filter(key="race").count() == 1
