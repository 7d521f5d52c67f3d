"""Acceptance of S3 storage on the REAL Ceph RGW (marker ``ceph``; ``tests/ceph.py``): order ->
RGW user with quotas; bucket, keys, uploads with the client's own keys, QuotaExceeded; the
static website; suspend for non-payment -> UserSuspended -> top-up -> resumed; delete; the
day's usage equal to what was uploaded and downloaded and its overage charged by the billing
run; RGW stopped mid-operation; discovery both ways."""

from __future__ import annotations

import http.client
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from billow.billing.actions import resume_paid_services
from billow.billing.models import Expense, ExpenseReason
from billow.core.errors import RetryableError
from billow.core.periods import add_months
from billow.services import actions, discovery, object_storage, runner
from billow.services.models import OperationStatus, ServiceOperation
from billow.services.modules.base import modules
from billow.services.modules.ceph_rgw.admin import AdminOps, internal_access_key
from billow.services.states import ServiceStatus
from billow.usage.models import ParameterDaily
from billow.usage.pull import pull_stats
from tests.ceph import CephRgw

from .world import S3World, eventually, utc_today

pytestmark = [pytest.mark.ceph, pytest.mark.django_db]


@pytest.fixture
def s3w(ceph_rgw: CephRgw) -> S3World:
    return S3World(ceph_rgw)


def s3_code(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return str(caught.value.response["Error"]["Code"])


def website_get(rgw: CephRgw, bucket: str, path: str = "/") -> tuple[int, bytes]:
    """GET through the website endpoint: RGW picks the website API by the Host header."""
    host, port = rgw.endpoint.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("GET", path, headers={"Host": f"{bucket}.{rgw.website_dns_name}"})
    response = conn.getresponse()
    return response.status, response.read()


def test_order_bucket_upload_quota_and_website(s3w: S3World) -> None:
    # given a client who orders S3 with 3 objects
    service = s3w.order(s3w.client(balance=1000), objects=3)
    uid = service.external_id
    # then the RGW user exists with the quota of the addon
    assert s3w.uids() == [uid]
    quota = s3w.admin.call(s3w.admin.api.get_user_quota, uid=uid)
    assert (quota["enabled"], quota["max_objects"]) == (True, 3)
    # when the client creates a bucket through Billow and a key, and uploads with boto3
    storage = object_storage.storage_of(service)
    bucket = f"{uid}-site"
    storage.create_bucket(bucket)
    key = storage.create_key()
    assert [k.access_key for k in storage.list_keys()] == [key.access_key]
    s3 = s3w.s3(key.access_key, key.secret_key)
    s3.put_object(Bucket=bucket, Key="index.html", Body=b"<h1>Hello</h1>")
    s3.put_object(Bucket=bucket, Key="error.html", Body=b"<h1>Oops</h1>")
    s3.put_object(Bucket=bucket, Key="notes.txt", Body=b"three")
    # then the 4th object is past the quota: RGW's QuotaExceeded
    assert s3_code(s3.put_object, Bucket=bucket, Key="four", Body=b"4") == "QuotaExceeded"
    # when the bucket is made public with a website
    storage.set_public(bucket, True)
    storage.set_website(bucket, index="index.html", error="error.html")
    # then the website endpoint answers with the index document, and the error document
    assert website_get(s3w.rgw, bucket) == (200, b"<h1>Hello</h1>")
    status, body = website_get(s3w.rgw, bucket, "/missing")
    assert (status, body) == (404, b"<h1>Oops</h1>")
    (listed,) = storage.list_buckets()
    assert (listed.name, listed.objects, listed.public, listed.website) == (bucket, 3, True, True)
    assert (listed.index_document, listed.error_document) == ("index.html", "error.html")
    assert listed.size_bytes == len(b"<h1>Hello</h1><h1>Oops</h1>three")
    # when the website is turned off and the bucket made private, it no longer serves
    storage.disable_website(bucket)
    storage.set_public(bucket, False)
    assert website_get(s3w.rgw, bucket)[0] in (403, 404)
    # a non-empty bucket is deleted only with "delete all objects"
    with pytest.raises(object_storage.ObjectStorageError) as refused:
        storage.delete_bucket(bucket)
    assert refused.value.code == "bucket_not_empty"
    assert storage.delete_bucket(bucket, delete_objects=True) == 3
    assert storage.list_buckets() == []


def test_bucket_names_and_key_limit_are_checked(s3w: S3World) -> None:
    service = s3w.order(s3w.client(balance=1000))
    storage = object_storage.storage_of(service)
    for bad in ("ab", "Upper", "a..b", "192.168.1.1", "-edge", "xn--abc"):
        with pytest.raises(object_storage.ObjectStorageError) as refused:
            storage.create_bucket(bad)
        assert refused.value.code == "invalid_bucket_name"
    assert storage.list_buckets() == []
    keys = [storage.create_key() for _ in range(5)]
    with pytest.raises(object_storage.ObjectStorageError) as refused:
        storage.create_key()
    assert refused.value.code == "access_key_limit"
    storage.revoke_key(keys[0].access_key)
    assert len(storage.list_keys()) == 4
    assert s3_code(s3w.s3(keys[0].access_key, keys[0].secret_key).list_buckets) == (
        "InvalidAccessKeyId"
    )
    # Billow's own key is not the client's to revoke
    with pytest.raises(object_storage.ObjectStorageError) as refused:
        storage.revoke_key(internal_access_key(service.external_id))
    assert refused.value.code == "no_such_access_key"


def test_nonpayment_suspends_top_up_resumes_delete_removes(s3w: S3World) -> None:
    # given a service paid for one month that ends today, and no money left
    today = utc_today()
    client = s3w.client(balance=100)
    service = s3w.order(client, opened=add_months(today, -1))
    assert service.paid_until == today
    key = object_storage.storage_of(service).create_key()
    s3 = s3w.s3(key.access_key, key.secret_key)
    assert s3.list_buckets()["Buckets"] == []
    # when today's billing run finds no money: suspended for non-payment, RGW user suspended
    s3w.base.bill(today)
    service.refresh_from_db()
    assert (service.status, service.sub_state) == (ServiceStatus.IN_PROGRESS, "suspend")
    assert s3w.run_queued(service) == ["suspend"]
    service.refresh_from_db()
    assert service.status == ServiceStatus.SUSPENDED_NONPAYMENT
    assert s3_code(s3.list_buckets) == "UserSuspended"
    assert s3_code(s3.create_bucket, Bucket=f"{service.external_id}-x") == "UserSuspended"
    # when the client tops up and payments resume the service
    s3w.base.topup(client, 100)
    resumed = resume_paid_services(client_id=client.pk, currency="USD")
    assert resumed == [service.pk]
    assert s3w.run_queued(service) == ["resume"]
    service.refresh_from_db()
    assert service.status == ServiceStatus.ACTIVE
    assert s3.list_buckets()["Buckets"] == []
    # when the service is deleted: the key is refused and the user is gone
    s3w.run(actions.request_operation(service=service, operation="close"))
    assert s3_code(s3.list_buckets) == "InvalidAccessKeyId"
    assert s3w.admin.user(service.external_id) is None
    assert s3w.uids() == []


def test_usage_of_the_day_and_its_overage_charged_to_the_cent(s3w: S3World) -> None:
    # given a service opened on the 1st of this month
    today = utc_today()
    first = today.replace(day=1)
    client = s3w.client(balance=10_000)
    service = s3w.order(client, opened=first, objects=10)
    storage = object_storage.storage_of(service)
    bucket = f"{service.external_id}-data"
    # when the client makes 6 requests: a bucket (through Billow), 3 uploads, 2 downloads
    storage.create_bucket(bucket)
    key = storage.create_key()
    s3 = s3w.s3(key.access_key, key.secret_key)
    for name, size in (("a", 1000), ("b", 2000), ("c", 3000)):
        s3.put_object(Bucket=bucket, Key=name, Body=b"x" * size)
    assert len(s3.get_object(Bucket=bucket, Key="c")["Body"].read()) == 3000
    assert len(s3.get_object(Bucket=bucket, Key="b")["Body"].read()) == 2000
    module = runner.build_module(s3w.instance)
    ctx_service = service

    def day_values() -> dict[str, Any]:
        from billow.services.selectors import build_context

        op = ServiceOperation(service=ctx_service, operation="stat", idempotency_key="x")
        values = dict(module.stat(build_context(op), today).data["values"])
        assert values["s3_requests"] == 6  # the usage log is written asynchronously
        return values

    values = eventually(day_values)
    # then the day's figures are exactly what was uploaded, downloaded and asked
    assert {k: values[k] for k in values if k.endswith("bytes") or k == "s3_requests"} == {
        "s3_stored_bytes": 6000,
        "s3_traffic_in_bytes": 6000,
        "s3_traffic_out_bytes": 5000,
        "s3_requests": 6,
    }
    # when the daily pull ingests the day (twice: stored once)
    assert pull_stats(day=today, service_ids=[service.pk]).accepted == 8
    assert pull_stats(day=today, service_ids=[service.pk]).duplicates == 8
    daily = dict(
        ParameterDaily.objects.filter(service_id=service.pk, day=today).values_list(
            "parameter", "total"
        )
    )
    assert (daily["s3_traffic_out_bytes"], daily["s3_requests"]) == (5000, 6)
    # when the billing run of the next month's 1st closes the month
    next_month = add_months(first, 1)
    s3w.base.bill(next_month)
    overage = sorted(
        Expense.objects.filter(service=service, reason=ExpenseReason.USAGE).values_list(
            "amount_minor", flat=True
        )
    )
    # then (5000 - 1000) B x 0.01 = 0.40 and (6 - 2) requests x 0.05 = 0.20 are charged
    assert overage == [20, 40]
    assert s3w.base.balance(client) == 10_000 - 100 - 100 - 20 - 40


def test_gateway_stopped_mid_open_retries_without_a_duplicate(
    s3w: S3World, monkeypatch: Any
) -> None:
    service = actions.create_service(
        client=s3w.client(balance=1000),
        tariff=s3w.tariff,
        period="1m",
        currency="USD",
        addon_values={"objects": 3},
    )
    op = actions.request_operation(service=service, operation="open")
    real_create_key = AdminOps.create_key
    stopped: list[bool] = []

    def gateway_dies_after_the_user(admin: AdminOps, uid: str, access_key: str | None = None):
        if not stopped:  # the user exists now; the gateway goes away before the key
            stopped.append(True)
            s3w.rgw.stop_gateway()
        return real_create_key(admin, uid, access_key)

    monkeypatch.setattr(AdminOps, "create_key", gateway_dies_after_the_user)
    try:
        # when the gateway stops mid-open: a transport error, the operation queued for retry
        assert runner.execute_operation(operation_id=op.pk) == "retry"
        op.refresh_from_db()
        assert (op.status, op.attempts, op.error_code) == ("queued", 1, "transport_error")
    finally:
        s3w.rgw.start_gateway()
    # when RGW is back and the retry is due, it finishes once
    later = datetime.now(UTC) + timedelta(seconds=31)
    result = runner.execute_operation(operation_id=op.pk, now=later)
    op.refresh_from_db()
    assert result == "succeeded", op.error_message
    service.refresh_from_db()
    assert service.status == ServiceStatus.ACTIVE
    # then one user with one key (Billow's), however many attempts
    assert s3w.uids() == [service.external_id]
    user = s3w.admin.user(service.external_id)
    assert user is not None
    assert [k["access_key"] for k in user["keys"]] == [internal_access_key(service.external_id)]
    # and a replayed open (a lost reply) finds the same user
    from billow.services.selectors import build_context

    again = modules.get("ceph_rgw")
    outcome = runner.build_module(s3w.instance).open(build_context(op))
    assert (outcome.status, outcome.external_id) == ("succeeded", service.external_id)
    assert again is not None and s3w.uids() == [service.external_id]
    assert len(s3w.admin.user(service.external_id)["keys"]) == 1  # type: ignore[index]
    assert (
        ServiceOperation.objects.filter(service=service, status=OperationStatus.SUCCEEDED).count()
        == 1
    )


def test_gateway_down_raises_retryable(s3w: S3World) -> None:
    module = runner.build_module(s3w.instance)
    s3w.rgw.stop_gateway()
    try:
        with pytest.raises(RetryableError):
            module.discover()
    finally:
        s3w.rgw.start_gateway()


def test_discovery_finds_users_behind_billows_back_both_ways(s3w: S3World) -> None:
    client = s3w.client(balance=1000)
    kept = s3w.order(client)
    lost = s3w.order(client)
    prefix = s3w.config["uid_prefix"]
    # given a user made by hand with Billow's tag, and one removed by hand
    s3w.admin.create_user(f"{prefix}999999", "by hand", 10)
    s3w.admin.remove_user(lost.external_id)
    report = discovery.run_discovery(instance=s3w.instance)
    assert sorted((r.kind, r.external_id) for r in report.drift) == [
        ("service_without_vm", lost.external_id),
        ("vm_without_service", f"{prefix}999999"),
    ]
    assert report.linked_count == 1
    assert kept.external_id in s3w.uids()
    s3w.admin.remove_user(f"{prefix}999999")
