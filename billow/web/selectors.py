"""Client-area reads. Everything is scoped to one client; an object of another client is a 404."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from billow.accounts.models import Client, ClientUser, Payer
from billow.billing.auto_invoice import notice_window_days, recommended_payments
from billow.billing.overdue import Overdue, OverdueState
from billow.billing.plan_change import quote_plan_change
from billow.billing.selectors import PriceBook, renew_period_of, service_price
from billow.billing.terms import (
    PromiseOffer,
    get_overdue,
    get_promise_offer,
    list_credit_currencies,
)
from billow.catalog.choices import BillingType, TariffStatus
from billow.catalog.models import Tariff
from billow.catalog.pricing import AddonInfo, PriceLine, TariffInfo
from billow.core.clock import now as clock_now
from billow.core.errors import BillowError
from billow.ledger.models import AccountKind, LedgerAccount
from billow.notifications.models import Notification
from billow.notifications.selectors import count_unread_for_client, list_notifications_for_client
from billow.services.actions import client_may_suspend
from billow.services.models import Service, ServiceEvent
from billow.services.states import SUSPENDED, ServiceStatus

S = ServiceStatus
#: Statuses in which a client may renew now, toggle auto-renew, change the plan.
RENEWABLE = frozenset({S.ACTIVE, *SUSPENDED})
CHANGEABLE = frozenset({S.ACTIVE})
DELETABLE = frozenset(set(S.values) - {S.DELETED, S.IN_PROGRESS, S.FAILED})


@dataclass(frozen=True, slots=True)
class Dashboard:
    balances: list[tuple[str, int]]
    topups: list[tuple[str, int]]  # the recommended amount to pay, per currency
    by_status: list[tuple[str, str, int]]  # (status, label, count)
    notifications: list[Notification]
    unread: int
    services: int
    window_days: int = 0
    overdue: list[tuple[str, Overdue]] = field(default_factory=list)
    promises: list[ProviderOffer] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ProviderOffer:
    """A promised payment the client may take (or has running) with one provider."""

    provider_id: int
    provider_name: str
    offer: PromiseOffer


def get_dashboard(client: Client, *, today: date | None = None) -> Dashboard:
    """Balances per currency, the top-up that covers the next 30 days of auto-renewals, service
    counts by status and the newest unread notifications (a handful of queries)."""
    today = today or clock_now().date()
    balances = get_balances(client)
    counts = Counter(Service.objects.filter(client=client).values_list("status", flat=True))
    labels = dict(S.choices)
    by_status = [(s, str(labels.get(s, s)), n) for s, n in sorted(counts.items())]
    notes = list(list_notifications_for_client(client_id=client.pk, unread_only=True)[:5])
    return Dashboard(
        balances=sorted(balances.items()),
        topups=recommended_topups(client, today=today),
        by_status=by_status,
        notifications=notes,
        unread=count_unread_for_client(client_id=client.pk),
        services=sum(counts.values()),
        window_days=notice_window_days(),
        overdue=list_overdue(client, today=today),
        promises=list_promise_offers(client, today=today),
    )


def get_balances(client: Client) -> dict[str, int]:
    """The client's balance per currency (summed over providers, in Python: exact integers)."""
    totals: dict[str, int] = defaultdict(int)
    rows = LedgerAccount.objects.filter(client=client, kind=AccountKind.CLIENT_BALANCE)
    for currency, balance in rows.values_list("currency", "balance_minor"):
        totals[currency] += int(balance)
    return dict(totals)


def recommended_topups(client: Client, *, today: date) -> list[tuple[str, int]]:
    """Per currency: the recommended amount to pay (``billing.auto_invoice``: what the
    renewals of the notice window need, less what the balances have available), if any."""
    totals: dict[str, int] = defaultdict(int)
    for r in recommended_payments(client.pk, day=today):
        totals[r.currency] += r.amount_minor
    return sorted(totals.items())


def list_overdue(client: Client, *, today: date) -> list[tuple[str, Overdue]]:
    """The currencies in which the client has overdue payments, with the state."""
    states = [(c, get_overdue(client.pk, c, today)) for c in list_credit_currencies(client.pk)]
    return [(c, o) for c, o in states if o.state != OverdueState.NONE]


def list_promise_offers(client: Client, *, today: date) -> list[ProviderOffer]:
    """The promised payments offered to the client, per provider and currency it has a
    balance in (none where the provider's policy offers none)."""
    rows = (
        LedgerAccount.objects.filter(
            client=client, kind=AccountKind.CLIENT_BALANCE, provider__isnull=False
        )
        .order_by("provider_id", "currency")
        .values_list("provider_id", "provider__name", "currency")
    )
    out = []
    for provider_id, name, currency in rows:
        offer = get_promise_offer(client.pk, provider_id, currency, today)
        if offer.refusal != "promised_payment_unavailable":
            out.append(ProviderOffer(provider_id, name, offer))
    return out


def list_services(client: Client, *, status: str = "") -> QuerySet[Service]:
    rows = Service.objects.filter(client=client).select_related("tariff")
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("-id")


def get_service(client: Client, pk: int) -> Service:
    """The client's service ``pk`` (404 for a missing one or another client's)."""
    try:
        return Service.objects.select_related("tariff__product_type").get(pk=pk, client=client)
    except Service.DoesNotExist:
        raise Http404("no such service") from None


def list_service_events(service: Service, limit: int = 50) -> list[ServiceEvent]:
    return list(ServiceEvent.objects.filter(service=service).order_by("-id")[:limit])


@dataclass(slots=True)
class ServicePage:
    """What the service page shows and which actions it offers."""

    service: Service
    price: int | None
    renew_period: str
    addons: list[tuple[AddonInfo, Any]]
    editable_addons: list[tuple[AddonInfo, Any]]
    tariffs: list[Tariff]
    events: list[ServiceEvent]
    can_renew: bool
    can_toggle: bool
    can_delete: bool
    can_change: bool
    periods: list[str] = field(default_factory=list)
    can_suspend: bool = False  # reseller groups suspend and resume their own services
    can_resume: bool = False


def get_service_page(client: Client, service: Service, *, may_manage: bool) -> ServicePage:
    s = service
    info = _info(s)
    period = renew_period_of(s.period, s.auto_renew_period) or s.period
    price = _price(s, period)
    values = s.addon_values or {}
    addons = [(a, values.get(a.intname, a.default_value)) for a in info.top_addons] if info else []
    editable = [(a, v) for a, v in addons if _editable(a)]
    open_ = s.status in RENEWABLE
    return ServicePage(
        service=s,
        price=price,
        renew_period=period,
        addons=addons,
        editable_addons=editable if may_manage and s.status in CHANGEABLE else [],
        tariffs=list_tariff_choices(s) if may_manage and s.status in CHANGEABLE else [],
        events=list_service_events(s),
        can_renew=may_manage and open_ and s.period != "day" and s.paid_until is not None,
        can_toggle=may_manage and s.status != S.DELETED and s.period not in ("day", "hour"),
        can_delete=may_manage and s.status in DELETABLE and client_may_delete(client),
        can_change=may_manage and s.status in CHANGEABLE,
        periods=sorted((p for p in info.prices if p not in ("hour", "trial")), key=_period_order)
        if info
        else [],
        can_suspend=may_manage and s.status == S.ACTIVE and client_may_suspend(client),
        can_resume=may_manage and s.status == S.SUSPENDED_BY_CLIENT and client_may_suspend(client),
    )


def _info(s: Service) -> TariffInfo | None:
    try:
        return PriceBook().info(s.tariff_id, s.currency)
    except BillowError:
        return None


def _price(s: Service, period: str) -> int | None:
    try:
        return service_price(
            PriceBook(),
            tariff_id=s.tariff_id,
            currency=s.currency,
            period=period,
            addon_values=s.addon_values or {},
            special_price_minor=s.special_price_minor,
        )
    except BillowError:
        return None


_ORDER = ["hour", "day", "trial", "1m", "3m", "6m", "12m", "24m", "36m"]


def _period_order(p: str) -> int:
    return _ORDER.index(p) if p in _ORDER else len(_ORDER)


def _editable(a: AddonInfo) -> bool:
    return a.billing_type == BillingType.ON_ORDER and a.edit_policy != "fixed"


def client_may_delete(client: Client) -> bool:
    """Deletion is allowed unless one of the client's groups forbids it."""
    return not client.groups.filter(allow_delete=False).exists()


def list_tariff_choices(s: Service) -> list[Tariff]:
    """Active tariffs of the same provider and product type offering the service's currency."""
    return list(
        Tariff.objects.filter(
            provider_id=s.provider_id,
            product_type_id=s.tariff.product_type_id,
            status=TariffStatus.ACTIVE,
            prices__currency=s.currency,
        )
        .exclude(pk=s.tariff_id)
        .distinct()
        .order_by("name")
    )


@dataclass(frozen=True, slots=True)
class Preview:
    """A plan change as the client is shown it (``billing.plan_change``: what will be charged)."""

    lines: list[PriceLine]
    total: int
    current: int | None
    error: str = ""
    charge: int = 0
    credit: int = 0
    applies_on: date | None = None  # set when the change waits for the end of the paid period


def preview_plan(
    s: Service, *, tariff_id: int | None, addon_values: dict[str, Any] | None
) -> Preview:
    """The price of the service's current period on ``tariff_id`` (None: its own) with
    ``addon_values`` (None on a tariff change: the values carried over), beside what it costs
    now, and what the change charges or credits now; a refusal comes back as ``error``."""
    try:
        change = quote_plan_change(
            s, tariff_id=tariff_id, addon_values=addon_values, today=clock_now().date()
        )
    except BillowError as exc:
        current = _price(s, renew_period_of(s.period, s.auto_renew_period) or s.period)
        if exc.code == "nothing_to_change" and current is not None:
            return Preview([], current, current)
        return Preview([], 0, current, str(exc))
    return Preview(
        change.lines,
        change.new_minor,
        change.current_minor,
        charge=change.charge_minor,
        credit=change.credit_minor,
        applies_on=change.period_to if change.when == "period_end" else None,
    )


def get_tariff_for_change(s: Service, tariff_id: int) -> Tariff:
    for t in list_tariff_choices(s):
        if t.pk == tariff_id:
            return t
    raise Http404("no such tariff")


def list_payers(client: Client) -> QuerySet[Payer]:
    return Payer.objects.filter(client=client).order_by("id")


def get_payer(client: Client, pk: int) -> Payer:
    try:
        return Payer.objects.get(pk=pk, client=client)
    except Payer.DoesNotExist:
        raise Http404("no such payer") from None


def list_client_users(client: Client) -> QuerySet[ClientUser]:
    return ClientUser.objects.filter(client=client).select_related("user").order_by("id")


def get_client_user(client: Client, pk: int) -> ClientUser:
    try:
        return ClientUser.objects.select_related("user", "client").get(pk=pk, client=client)
    except ClientUser.DoesNotExist:
        raise Http404("no such user") from None
