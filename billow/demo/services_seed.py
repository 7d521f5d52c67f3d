"""Demo services: at least one service in every status, dated so that ``billow bill --date``
on the next days and weeks shows renewals, notices, suspensions and deletions in the admin."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings

from billow.accounts.models import Client, Provider
from billow.billing.actions import charge_opening
from billow.catalog.models import ProductType, Tariff
from billow.core import clock
from billow.core.actors import Actor
from billow.services import actions as services
from billow.services.models import Service, Task
from billow.services.states import ServiceStatus as S
from billow.services.states import SubState

ACTOR = Actor.system("demo")


def _at(day: date) -> datetime:
    return datetime.combine(day, time(10), tzinfo=UTC)


def _s3_on_ceph() -> bool:
    """With ``CEPH_RGW_URL`` set, S3 runs on a ceph_rgw instance at that gateway."""
    if not settings.CEPH_RGW_URL:
        return False
    services.create_module_instance(
        module="ceph_rgw",
        name="Local Ceph RGW",
        config={
            "admin_url": settings.CEPH_RGW_URL,
            "website_suffix": settings.CEPH_RGW_WEBSITE_SUFFIX,
            "uid_prefix": "billow-demo-",
        },
        secrets={
            "admin_access_key": settings.CEPH_RGW_ADMIN_ACCESS_KEY,
            "admin_secret_key": settings.CEPH_RGW_ADMIN_SECRET_KEY,
        },
        product_types=ProductType.objects.filter(intname="s3"),
        actor=ACTOR,
    )
    return True


def seed_services(provider: Provider) -> int:
    """Create the demo services; returns how many."""
    today = clock.today()
    vps_type = ProductType.objects.get(intname="vps")
    on_dummy = ["dedicated"] if _s3_on_ceph() else ["dedicated", "s3"]
    services.create_module_instance(
        module="dummy",
        name="Demo hypervisor (dummy module)",
        config={"latency_ms": 50},
        product_types=[vps_type, *ProductType.objects.filter(intname__in=on_dummy)],
        actor=ACTOR,
    )
    start = Tariff.objects.get(provider=provider, name="VPS Start")
    pro = Tariff.objects.get(provider=provider, name="VPS Pro")
    dedicated = Tariff.objects.get(provider=provider, product_type__intname="dedicated")
    s3 = Tariff.objects.get(provider=provider, product_type__intname="s3")
    alice = Client.objects.get(email="alice@example.com")
    globex = Client.objects.get(email="ops@globex.example")
    ivan = Client.objects.get(email="ivan@example.com")
    os_debian = {"os": "debian-12"}
    made: list[Service] = []

    def active(client: Client, tariff: Tariff, currency: str, opened: date, **kw: Any) -> Service:
        s = _order(client, tariff, currency, **kw)
        _move(s, [(S.IN_PROGRESS, SubState.OPEN), (S.ACTIVE, "")], opened)
        charge_opening(service=s, start=opened, now=_at(opened), actor=ACTOR)
        made.append(s)
        return s

    def _order(client: Client, tariff: Tariff, currency: str, **kw: Any) -> Service:
        params = os_debian if tariff.product_type_id == vps_type.pk else {}
        return services.create_service(
            client=client,
            tariff=tariff,
            period=kw.pop("period", "1m"),
            currency=currency,
            parameters=params,
            auto_renew_period=kw.pop("auto_renew", "1m"),
            actor=ACTOR,
            **kw,
        )

    # Alice (USD): renews next week; the second renewal runs her balance dry -> suspended.
    active(alice, start, "USD", today - timedelta(days=24), name="web-1")
    active(
        alice,
        start,
        "USD",
        today - timedelta(days=26),
        name="db-1",
        addon_values={"cpu": 2, "ram": 4, "disk": 40, "ipv4": 1, "backup": True},
    )
    # Globex (EUR reseller): a dedicated server, a quarterly VPS, S3, services in every status.
    active(globex, dedicated, "EUR", today - timedelta(days=20), name="dx-frankfurt-1")
    active(
        globex,
        pro,
        "EUR",
        today - timedelta(days=40),
        name="reseller-pool-1",
        period="3m",
        auto_renew="3m",
    )
    active(globex, s3, "EUR", today - timedelta(days=10), name="backups-bucket")
    for status, name in (
        (S.SUSPENDED_BY_CLIENT, "reseller-customer-7"),
        (S.SUSPENDED_BY_STAFF, "legacy-vm"),
        (S.SUSPENDED_ABUSE, "spam-source"),
        (S.SUSPENDED_OVER_LIMIT, "traffic-hog"),
    ):
        s = active(globex, start, "EUR", today - timedelta(days=12), name=name)
        _move(s, [(status, "")], today - timedelta(days=2))
    # Ivan (EUR): an unpaid service already suspended for non-payment, auto-deleted soon.
    s = active(ivan, start, "EUR", today - timedelta(days=45), name="blog")
    # suspended a week ago: auto-deleted a week after seeding (14 days), not by the first run
    _move(s, [(S.SUSPENDED_NONPAYMENT, "")], today - timedelta(days=7))
    # Not yet opened / special states (nothing charged).
    for status, name in (
        (S.ORDERED, "in-cart"),
        (S.CONFIGURATION_REQUIRED, "quick-order"),
        (S.NOT_AVAILABLE, "no-capacity"),
        (S.DELETED, "cancelled-order"),
    ):
        s = _order(globex, start, "EUR", name=name)
        if status != S.ORDERED:
            _move(s, [(status, "")], today)
        made.append(s)
    s = _order(globex, start, "EUR", name="provisioning")
    _move(s, [(S.IN_PROGRESS, SubState.OPEN)], today)
    made.append(s)
    s = _order(globex, start, "EUR", name="broken-host")
    _move(s, [(S.IN_PROGRESS, SubState.OPEN), (S.FAILED, "")], today)
    Task.objects.create(
        department="support",
        title=f"Open service #{s.pk} by hand: the hypervisor refused the request",
        instructions="Check the host's free memory, then retry the operation.",
        service=s,
    )
    made.append(s)
    return len(made)


def _move(service: Service, steps: list[tuple[str, str]], day: date) -> None:
    for status, sub_state in steps:
        services.transition_service(
            service=service,
            to=status,
            sub_state=sub_state,
            actor=ACTOR,
            now=_at(day),
            reason="demo data",
        )
