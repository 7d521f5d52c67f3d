"""The staff dashboard on the admin index (unfold ``DASHBOARD_CALLBACK``): active services,
monthly recurring revenue, balances by currency, failed operations, open tasks, services over
their usage limits and the last billing run, each linking to the admin page where staff act on
it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from django.db.models import Count
from django.http import HttpRequest

from billow.billing.models import BillingRun
from billow.billing.selectors import PriceBook, service_price
from billow.core.errors import BillowError
from billow.core.periods import HOURS_PER_MONTH, Period, to_period
from billow.ledger.models import AccountKind, LedgerAccount
from billow.services.models import OperationStatus, Service, ServiceOperation, Task, TaskStatus
from billow.services.states import ServiceStatus
from billow.usage.charts import UsageAlerts, get_usage_alerts


@dataclass(frozen=True, slots=True)
class StaffDashboard:
    services_by_status: list[tuple[str, str, int]]
    active: int
    mrr: list[tuple[str, int]]
    balances: list[tuple[str, int, int]]  # currency, sum of positive, sum of negative
    failed_operations: int
    open_tasks: int
    last_run: BillingRun | None
    usage: UsageAlerts


def _monthly(period: str, price: int) -> Fraction:
    per = to_period(period)
    if per is Period.DAY:
        return Fraction(price * 30)
    if per is Period.HOUR:  # as clients are shown it: "about X per month"
        return Fraction(price * HOURS_PER_MONTH)
    return Fraction(price, per.months) if per.months else Fraction(0)


def get_mrr() -> list[tuple[str, int]]:
    """Monthly recurring revenue per currency: active services' period price per month.

    Services are grouped by (tariff, currency, period, addons, special price) so pricing runs
    once per distinct plan, not once per service."""
    groups = (
        Service.objects.filter(status=ServiceStatus.ACTIVE)
        .values("tariff_id", "currency", "period", "addon_values", "special_price_minor")
        .annotate(n=Count("id"))
        .order_by()
    )
    totals: dict[str, Fraction] = defaultdict(Fraction)
    book = PriceBook()
    for g in groups:
        try:
            price = service_price(
                book,
                tariff_id=g["tariff_id"],
                currency=g["currency"],
                period=g["period"],
                addon_values=g["addon_values"] or {},
                special_price_minor=g["special_price_minor"],
            )
            totals[g["currency"]] += _monthly(g["period"], price) * g["n"]
        except BillowError:
            continue
    return sorted((cur, round(total)) for cur, total in totals.items())


def get_balances() -> list[tuple[str, int, int]]:
    credit: dict[str, int] = defaultdict(int)
    debt: dict[str, int] = defaultdict(int)
    rows = LedgerAccount.objects.filter(kind=AccountKind.CLIENT_BALANCE)
    for currency, balance in rows.values_list("currency", "balance_minor").iterator():
        if balance >= 0:
            credit[currency] += int(balance)
        else:
            debt[currency] += int(balance)
    return sorted((c, credit[c], debt[c]) for c in set(credit) | set(debt))


def get_staff_dashboard() -> StaffDashboard:
    counts = dict(
        Service.objects.values_list("status")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("status", "n")
    )
    labels = dict(ServiceStatus.choices)
    return StaffDashboard(
        services_by_status=[(s, str(labels.get(s, s)), n) for s, n in sorted(counts.items())],
        active=counts.get(ServiceStatus.ACTIVE, 0),
        mrr=get_mrr(),
        balances=get_balances(),
        failed_operations=ServiceOperation.objects.filter(status=OperationStatus.FAILED).count(),
        open_tasks=Task.objects.filter(status=TaskStatus.OPEN).count(),
        last_run=BillingRun.objects.order_by("-started_at", "-id").first(),
        usage=get_usage_alerts(),
    )


def dashboard_callback(request: HttpRequest, context: dict[str, Any]) -> dict[str, Any]:
    context["billow"] = get_staff_dashboard()
    return context
