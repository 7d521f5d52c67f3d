"""An S3 world on the real RGW: a tariff "S3 Standard" (1.00 a month; object-count quota
addon; traffic and requests billed by statistics), the module instance on the session's
gateway, and helpers to order, run operations and talk S3 with a client's own keys."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeVar

import boto3
from botocore.config import Config

from billow.accounts.models import Client
from billow.billing.actions import charge_opening
from billow.catalog import actions as catalog
from billow.services import actions, runner
from billow.services.models import ModuleInstance, OperationStatus, Service, ServiceOperation
from billow.services.modules.ceph_rgw.admin import AdminOps
from billow.usage.actions import set_meter
from tests.billing.world import World
from tests.ceph import CephRgw

from .conftest import rgw_config, rgw_secrets

T = TypeVar("T")
PRICE = 100  # 1.00 a month


def utc_today() -> date:
    return datetime.now(UTC).date()


class S3World:
    def __init__(self, rgw: CephRgw, **config: Any) -> None:
        self.rgw = rgw
        self.base = World()
        self.tariff = self.base.tariff("S3 Standard", {"1m": PRICE})
        catalog.create_addon(
            tariff=self.tariff,
            name="Objects",
            intname="objects",
            value_type="int",
            billing_type="on_order",
            currency="USD",
            included=3,
            min_value=1,
            max_value=1000,
        )
        self.traffic = catalog.create_addon(
            tariff=self.tariff,
            name="Outgoing traffic",
            intname="traffic_out",
            unit="B",
            value_type="int",
            billing_type="statistics",
            currency="USD",
            included=1000,
            overage_price_minor=Decimal("0.01"),
        )
        self.requests = catalog.create_addon(
            tariff=self.tariff,
            name="Requests",
            intname="requests",
            value_type="int",
            billing_type="statistics",
            currency="USD",
            included=2,
            overage_price_minor=Decimal(5),
        )
        set_meter(addon=self.traffic, parameters=["s3_traffic_out_bytes"])
        set_meter(addon=self.requests, parameters=["s3_requests"])
        self.config = rgw_config(rgw, **config)
        self.instance: ModuleInstance = actions.create_module_instance(
            module="ceph_rgw",
            name="RGW",
            config=self.config,
            secrets=rgw_secrets(rgw),
            department="ops",
            product_types=[self.base.product_type],
        )
        self.admin = AdminOps(rgw.endpoint, rgw.admin_access_key, rgw.admin_secret_key, timeout=10)

    def client(self, balance: int = 0) -> Client:
        client = self.base.client(balance=balance)
        client.providers.add(self.base.provider)
        return client

    def order(self, client: Client, *, opened: date | None = None, objects: int = 3) -> Service:
        """Order and open the service (the open operation run at once), then charge it."""
        service = actions.create_service(
            client=client,
            tariff=self.tariff,
            period="1m",
            currency="USD",
            addon_values={"objects": objects},
            auto_renew_period="1m",
        )
        op = actions.request_operation(service=service, operation="open")
        self.run(op)
        service.refresh_from_db()
        charge_opening(service=service, start=opened or utc_today())
        service.refresh_from_db()
        return service

    def run(self, op: ServiceOperation) -> ServiceOperation:
        runner.execute_operation(operation_id=op.pk)
        op.refresh_from_db()
        assert op.status == OperationStatus.SUCCEEDED, (
            op.operation,
            op.error_code,
            op.error_message,
        )
        return op

    def run_queued(self, service: Service) -> list[str]:
        """Run the service's queued operations (those the billing run or a top-up asked for)."""
        done = []
        for op in ServiceOperation.objects.filter(
            service=service, status=OperationStatus.QUEUED
        ).order_by("id"):
            self.run(op)
            done.append(op.operation)
        return done

    def s3(self, access_key: str, secret_key: str) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.rgw.endpoint,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            region_name="us-east-1",
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )

    def uids(self) -> list[str]:
        return sorted(u for u in self.admin.list_uids() if u.startswith(self.config["uid_prefix"]))


def eventually(check: Callable[[], T], *, timeout: float = 15) -> T:
    """RGW writes its usage log asynchronously (1 s tick here): ask until ``check`` passes."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
