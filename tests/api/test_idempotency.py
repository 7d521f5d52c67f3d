"""Idempotency-Key: replays, reuse with another body, in-progress and concurrent duplicates."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection

from billow.api.actions import claim_idempotency_key, stale_after
from billow.api.models import IdempotencyRecord
from billow.api.tasks import purge_idempotency
from billow.billing.models import Expense
from billow.core import clock
from billow.jobs.schedule import SCHEDULE
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


@pytest.mark.django_db
def test_a_claim_older_than_the_stale_timeout_is_taken_over_by_a_repeat(
    tenant_a: Tenant, settings: Any
) -> None:
    # given a request that crashed after its claim committed, longer ago than the timeout
    settings.API_IDEMPOTENCY_STALE_SECONDS = 60
    api, url = tenant_a.api(), f"/api/v1/services/{tenant_a.service.pk}/renew/"
    api.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="k-stale")
    record = IdempotencyRecord.objects.get(key="k-stale")
    crashed_at = record.created_at - timedelta(seconds=61)
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        response_status=None, response_body=None, completed_at=None, created_at=crashed_at
    )
    balance = tenant_a.world.balance(tenant_a.client)
    # when the client repeats it
    r = api.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="k-stale")
    # then the repeat runs (one more renewal is charged) and its response is stored
    assert r.status_code == 200 and "Idempotent-Replayed" not in r
    assert tenant_a.world.balance(tenant_a.client) == balance - MONTH_PRICE
    taken = IdempotencyRecord.objects.get(key="k-stale")
    assert taken.pk == record.pk and taken.created_at > crashed_at
    assert (taken.response_status, taken.response_body) == (200, r.json())


@pytest.mark.django_db
def test_a_claim_younger_than_the_stale_timeout_is_still_in_progress(
    tenant_a: Tenant, settings: Any
) -> None:
    settings.API_IDEMPOTENCY_STALE_SECONDS = 60
    api, url = tenant_a.api(), f"/api/v1/services/{tenant_a.service.pk}/renew/"
    api.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="k-young")
    record = IdempotencyRecord.objects.get(key="k-young")
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        response_status=None,
        response_body=None,
        completed_at=None,
        created_at=clock.now() - timedelta(seconds=59),
    )
    before = db_state()
    r = api.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="k-young")
    assert (r.status_code, r.json()["code"]) == (409, "idempotency_key_in_progress")
    assert db_state() == before


@pytest.mark.django_db
def test_two_repeats_of_a_stale_claim_take_it_over_once(tenant_a: Tenant) -> None:
    # given a stale claim
    user = tenant_a.owner.user
    old = clock.now() - stale_after() - timedelta(seconds=1)
    IdempotencyRecord.objects.create(
        user=user, key="k-race", method="POST", path="/x", fingerprint="f", created_at=old
    )
    # when two repeats claim it, the second seeing the stale row the first took over
    first, first_claimed = claim_idempotency_key(
        user=user, token=None, key="k-race", method="POST", path="/x", fingerprint="f"
    )
    second, second_claimed = claim_idempotency_key(
        user=user, token=None, key="k-race", method="POST", path="/x", fingerprint="f"
    )
    # then only the first runs; the second sees it in progress
    assert (first_claimed, second_claimed) == (True, False)
    assert second.pk == first.pk and second.response_status is None
    assert IdempotencyRecord.objects.filter(key="k-race").count() == 1


@pytest.mark.django_db
def test_the_purge_job_deletes_records_past_the_retention_only(
    tenant_a: Tenant, settings: Any
) -> None:
    # given records claimed just before and just after the retention cutoff
    settings.API_IDEMPOTENCY_RETENTION_HOURS = 24
    user, now = tenant_a.owner.user, clock.now()
    cutoff = now - timedelta(hours=24)

    def record(key: str, at: Any, done: bool) -> IdempotencyRecord:
        return IdempotencyRecord.objects.create(
            user=user,
            key=key,
            method="POST",
            path="/x",
            fingerprint="f",
            created_at=at,
            response_status=200 if done else None,
            response_body={} if done else None,
            completed_at=at if done else None,
        )

    record("old-done", cutoff - timedelta(seconds=1), True)
    record("old-open", cutoff - timedelta(seconds=1), False)
    record("edge", cutoff, True)
    record("new", now, True)
    # when the periodic job runs
    with clock.use_clock(clock.FixedClock(now)):
        deleted = purge_idempotency.call_local()
    # then only the records older than the retention are gone
    assert deleted == 2
    assert sorted(IdempotencyRecord.objects.values_list("key", flat=True)) == ["edge", "new"]


def test_the_purge_job_is_in_the_schedule() -> None:
    assert any(entry.target == "billow.api.tasks.purge_idempotency" for entry in SCHEDULE)
