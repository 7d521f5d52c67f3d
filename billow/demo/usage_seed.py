"""Demo usage: a meter on every statistics addon, and three months of traffic and S3 usage sent
day by day through the ingestion (as the modules' daily ``stat()`` pull and agents would), so
the Statistics pages, the charts and the staff list have data on first start. Today's billing
run is queued at the end: it charges the closed periods' overage (the S3 bucket's stored data is
rated per day, so the last days' overage is charged whatever the date)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from billow.accounts.models import Client, Provider
from billow.billing.actions import charge_opening, renew_service
from billow.billing.tasks import run_billing_day
from billow.catalog.choices import BillingType
from billow.catalog.models import Addon, Tariff
from billow.core import clock
from billow.core.actors import Actor
from billow.core.periods import add_months
from billow.jobs import enqueue_on_commit
from billow.services import actions as services
from billow.services.models import Service
from billow.services.states import ServiceStatus, SubState
from billow.usage.actions import set_meter
from billow.usage.ingest import ingest_records
from billow.usage.models import Combine
from billow.usage.parsing import RecordIn

ACTOR = Actor.system("demo")
#: addon intname -> the parameters its meter counts, how they combine, the limit (x included)
METERS: dict[str, tuple[list[str], str, int | None]] = {
    "traffic": (["traffic_in", "traffic_out"], Combine.SUM, 3),
    "storage": (["s3_stored_gib"], Combine.MAX, None),
    "traffic_out": (["s3_traffic_out_gib"], Combine.SUM, None),
    "requests": (["s3_requests_k"], Combine.SUM, None),
}
#: Samples a day (every 6 hours): sums are split across them, maxima sampled.
SAMPLE_HOURS = (0, 6, 12, 18)


@dataclass(frozen=True, slots=True)
class Profile:
    """A service's daily usage: parameter -> (weekday amount, weekend amount); stored data
    starts at ``stored_from`` GiB and grows by ``growth`` GiB a day (none when 0)."""

    service: Service
    opened: date
    daily: dict[str, tuple[int, int]]
    stored_from: int = 0
    growth: Decimal = Decimal(0)


def seed_usage(provider: Provider) -> None:
    today = clock.today()
    _meters(provider)
    globex = Client.objects.get(email="ops@globex.example")
    alice = Client.objects.get(email="alice@example.com")
    s3 = Tariff.objects.get(provider=provider, product_type__intname="s3")
    opened = add_months(today, -3)
    media = _long_running_bucket(globex, s3, opened, today)
    by_name = {s.name: s for s in Service.objects.filter(client__in=[alice, globex])}
    profiles = [
        # Globex's CDN origin bucket (USD): growing past its 50 GiB, busy on weekdays
        Profile(
            media,
            opened,
            {"s3_traffic_out_gib": (5, 2), "s3_requests_k": (55, 22)},
            stored_from=40,
            growth=Decimal("1.1"),
        ),
        Profile(
            by_name["backups-bucket"],
            _opened(by_name["backups-bucket"]),
            {"s3_traffic_out_gib": (1, 1)},
            stored_from=18,
            growth=Decimal("1.5"),
        ),
        # Alice's web server: about 80 % of its 1000 GiB a month (approaching)
        Profile(
            by_name["web-1"],
            _opened(by_name["web-1"]),
            {"traffic_in": (9, 6), "traffic_out": (27, 20)},
        ),
        Profile(
            by_name["db-1"], _opened(by_name["db-1"]), {"traffic_in": (3, 2), "traffic_out": (2, 1)}
        ),
        # Globex's reseller pool: over its 2000 GiB this month
        Profile(
            by_name["reseller-pool-1"],
            _opened(by_name["reseller-pool-1"]),
            {"traffic_in": (30, 24), "traffic_out": (52, 40)},
        ),
    ]
    rng = random.Random(14)  # the same demo figures on every start
    day = min(p.opened for p in profiles)
    while day <= today:
        records = [r for p in profiles if p.opened <= day for r in _records(p, day, rng, today)]
        # sent as the day goes (before it closes: no re-rating of closed days); today's so far
        at = min(datetime.combine(day, time(23, 50), tzinfo=UTC), clock.now())
        ingest_records(records, now=at)
        day += timedelta(days=1)
    # The run charges the closed periods' overage (and does today's renewals, if any).
    enqueue_on_commit(run_billing_day, today)


def _meters(provider: Provider) -> None:
    addons = Addon.objects.filter(
        tariff__provider=provider, billing_type=BillingType.STATISTICS, intname__in=METERS
    )
    for addon in addons:
        parameters, combine, limit_factor = METERS[addon.intname]
        limit = Decimal(addon.included * limit_factor) if limit_factor else None
        set_meter(
            addon=addon,
            parameters=parameters,
            combine=combine,
            unit=addon.unit,
            limit=limit,
            actor=ACTOR,
        )


def _opened(service: Service) -> date:
    assert service.opened_at is not None
    return service.opened_at.date()


def _at(day: date) -> datetime:
    return datetime.combine(day, time(10), tzinfo=UTC)


def _long_running_bucket(client: Client, tariff: Tariff, opened: date, today: date) -> Service:
    """An S3 bucket opened three months ago and renewed every month since."""
    service = services.create_service(
        client=client,
        tariff=tariff,
        period="1m",
        currency="USD",
        auto_renew_period="1m",
        name="media-cdn",
        actor=ACTOR,
    )
    for status, sub_state in (
        (ServiceStatus.IN_PROGRESS, SubState.OPEN),
        (ServiceStatus.ACTIVE, ""),
    ):
        services.transition_service(
            service=service,
            to=status,
            sub_state=sub_state,
            actor=ACTOR,
            now=_at(opened),
            reason="demo data",
        )
    charge_opening(service=service, start=opened, now=_at(opened), actor=ACTOR)
    service.refresh_from_db()
    while service.paid_until is not None and service.paid_until <= today:
        renew_service(service=service, now=_at(service.paid_until), actor=ACTOR)
        service.refresh_from_db()
    return service


def _records(p: Profile, day: date, rng: random.Random, today: date) -> Iterator[RecordIn]:
    weekend = day.weekday() >= 5
    hours = [h for h in SAMPLE_HOURS if day < today or h <= clock.now().hour]
    for parameter, (weekday_amount, weekend_amount) in p.daily.items():
        amount = Decimal(weekend_amount if weekend else weekday_amount)
        if day.day in (14, 15) and not weekend:  # a mid-month campaign
            amount *= Decimal("2.5")
        for hour in hours:
            yield _record(
                p.service, parameter, day, hour, amount / len(SAMPLE_HOURS) * _jitter(rng)
            )
    if p.growth:
        stored = p.stored_from + p.growth * (day - p.opened).days
        for hour in hours:
            yield _record(p.service, "s3_stored_gib", day, hour, stored * _jitter(rng, 2))


def _jitter(rng: random.Random, percent: int = 30) -> Decimal:
    """A factor within +-``percent`` %."""
    return Decimal(100 + rng.randint(-percent, percent)) / 100


def _record(service: Service, parameter: str, day: date, hour: int, value: Decimal) -> RecordIn:
    ts = datetime.combine(day, time(hour), tzinfo=UTC)
    # GiB to two decimals, as an agent would report them; the event id makes a rerun a no-op
    event = f"demo-{service.pk}-{parameter}-{ts:%Y%m%d%H}"
    return RecordIn(0, service.pk, parameter, ts, value.quantize(Decimal("0.01")), event)
