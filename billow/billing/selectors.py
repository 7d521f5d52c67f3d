"""Billing reads: prices of services, and everything one run chunk needs in a few queries."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet

from billow.billing.credit import CreditState
from billow.billing.models import ClientBillingSettings, Expense, PendingChange
from billow.billing.plan import RUN_STATUSES, DueService, RunRules
from billow.billing.ranges import client_range
from billow.billing.statement import service_label
from billow.billing.taxes import TaxQuery, price_taxes
from billow.billing.wallet import (
    NO_TAX,
    ItemTax,
    Wallet,
    WalletKey,
    WalletRow,
    build_wallets,
    hour_charge_key,
    lock_wallets_in_range,
    lock_wallets_of_clients,
    read_wallets_of_clients,
)
from billow.catalog import cache as catalog_cache
from billow.catalog.models import Tariff
from billow.catalog.pricing import TariffInfo, lines_total, price_tariff
from billow.core.errors import BillowError
from billow.core.periods import Period
from billow.invoicing.selectors import PAYER_BATCH
from billow.services.models import Service
from billow.services.states import AUTO_SUSPENDED, SUSPENDED, ServiceStatus


@dataclass(frozen=True, slots=True)
class ProductPolicy:
    product_type_id: int
    provider_id: int
    no_suspend_weekends: bool
    auto_delete_days: int
    downgrade_policy: str


class PriceBook:
    """Prices tariffs for a period with addon values; catalog reads and quotes are cached, so a
    chunk of thousands of services on a few tariffs costs a few queries."""

    def __init__(self) -> None:
        self._infos: dict[tuple[int, str], TariffInfo] = {}
        self._prices: dict[tuple[int, str, str, str, bool], int] = {}
        self._policies: dict[int, ProductPolicy] = {}

    def info(self, tariff_id: int, currency: str) -> TariffInfo:
        """The tariff's pricing info, through the process's catalog cache (the client
        dashboard's recommended amount prices the client's renewals on every request)."""
        key = (tariff_id, currency)
        if key not in self._infos:
            self._infos[key] = catalog_cache.tariff_info(tariff_id, currency)
        return self._infos[key]

    def price(
        self,
        tariff_id: int,
        currency: str,
        period: str,
        addon_values: Mapping[str, Any],
        *,
        include_setup: bool = False,
    ) -> int:
        """The quote total (tariff + addons, + setup fee when asked) for one period."""
        frozen = json.dumps(addon_values, sort_keys=True)
        key = (tariff_id, currency, period, frozen, include_setup)
        if key not in self._prices:
            lines = price_tariff(
                self.info(tariff_id, currency),
                period=period,
                addon_values=addon_values,
                currency=currency,
                include_setup=include_setup,
            )
            self._prices[key] = lines_total(lines, currency).amount_minor
        return self._prices[key]

    def policies(self, tariff_ids: set[int]) -> dict[int, ProductPolicy]:
        """Product type policy per tariff id (one query for the tariffs not seen yet)."""
        missing = tariff_ids - self._policies.keys()
        if missing:
            rows = Tariff.objects.filter(pk__in=missing).values_list(
                "id",
                "product_type_id",
                "provider_id",
                "product_type__no_suspend_weekends",
                "product_type__auto_delete_days",
                "product_type__downgrade_policy",
            )
            for tid, pt, prov, weekends, days, downgrade in rows:
                self._policies[tid] = ProductPolicy(pt, prov, weekends, days, downgrade)
        return {t: self._policies[t] for t in tariff_ids}


def renew_period_of(service_period: str, auto_renew_period: str) -> str | None:
    """Daily and hourly services are always charged per day / hour; others (a trial too)
    renew for the auto-renew period."""
    if service_period in (Period.DAY, Period.HOUR):
        return service_period
    return auto_renew_period or None


def service_price(
    book: PriceBook,
    *,
    tariff_id: int,
    currency: str,
    period: str,
    addon_values: Mapping[str, Any],
    special_price_minor: int | None,
) -> int:
    """What one ``period`` of a service costs: its special price, else the tariff quote."""
    if special_price_minor is not None:
        return special_price_minor
    return book.price(tariff_id, currency, period, addon_values)


# -- the run chunk ----------------------------------------------------------------------------

_SERVICE_FIELDS = (
    "id",
    "client_id",
    "provider_id",
    "currency",
    "status",
    "paid_until",
    "period",
    "auto_renew_period",
    "billing_mode",
    "anchor_day",
    "delete_at_period_end",
    "suspended_at",
    "module_instance_id",
    "tariff_id",
    "addon_values",
    "special_price_minor",
    "prorata_day",
    "name",
)


def candidate_services(rules: RunRules) -> QuerySet[Service]:
    """Services the run must look at on ``rules.date``: due (or due for a notice) or
    automatically suspended (auto-delete)."""
    horizon = rules.date + timedelta(days=rules.notice_days)
    suspended = SUSPENDED if rules.delete_manual_suspended else AUTO_SUSPENDED
    return Service.objects.filter(status__in=RUN_STATUSES, paid_until__isnull=False).filter(
        Q(paid_until__lte=horizon) | Q(status__in=suspended)
    )


@dataclass(slots=True)
class ChunkData:
    services: list[DueService]
    wallets: dict[WalletKey, Wallet]
    wallet_ids: dict[WalletKey, int]
    already_charged: frozenset[tuple[int, date]]
    pending: dict[int, PendingChange] = field(default_factory=dict)


def load_chunk(
    rules: RunRules,
    lo: int,
    hi: int | None,
    book: PriceBook,
    *,
    wallet_rows: list[WalletRow] | None = None,
    credit: CreditState | None = None,
) -> ChunkData:
    """Lock the chunk's wallets (unless the caller did: ``wallet_rows``) then its services
    (the one lock order: ledger account, then service) and read everything the plan needs:
    ~7 queries plus catalog reads per new tariff. ``credit`` (``billing.credit``) adds the
    promised credit to the wallets and marks the blocked ones, whose active services are read
    too (the plan suspends them)."""
    if wallet_rows is None:
        wallet_rows = lock_wallets_in_range(lo, hi)
    credit = credit or CreditState()
    lock = connection.features.has_select_for_update
    candidates = candidate_services(rules)
    if credit.blocked:
        candidates = candidates | Service.objects.filter(
            client_id__in=sorted(credit.blocked_clients), status=ServiceStatus.ACTIVE
        )
    service_qs = client_range(candidates, lo, hi).order_by("id")
    if lock:
        service_qs = service_qs.select_for_update()
    rows = [
        dict(zip(_SERVICE_FIELDS, r, strict=True)) for r in service_qs.values_list(*_SERVICE_FIELDS)
    ]
    pending = _pending_changes(rules, lo, hi)
    services = _due_services(rows, pending, book)
    terms = client_range(ClientBillingSettings.objects.all(), lo, hi)
    wallets, wallet_ids = build_wallets(wallet_rows, (s.wallet_key for s in services), terms)
    credit.apply(wallets)
    return ChunkData(services, wallets, wallet_ids, _already_charged(rows, rules, lo, hi), pending)


AUTOPAY_BATCH = 500  # client ids per IN list (SQLite caps bound parameters)


def load_autopay_data(
    rules: RunRules, client_ids: set[int], book: PriceBook
) -> tuple[list[DueService], dict[WalletKey, Wallet]]:
    """The candidate services and wallets of ``client_ids`` (the clients with an auto-payment
    method), read without locks before the chunk transaction: 4 queries per
    ``AUTOPAY_BATCH`` clients, plus catalog reads for tariffs not seen yet."""
    services: list[DueService] = []
    wallets: dict[WalletKey, Wallet] = {}
    ordered = sorted(client_ids)
    for i in range(0, len(ordered), AUTOPAY_BATCH):
        batch = ordered[i : i + AUTOPAY_BATCH]
        wallet_rows = read_wallets_of_clients(batch)
        rows = [
            dict(zip(_SERVICE_FIELDS, r, strict=True))
            for r in candidate_services(rules)
            .filter(client_id__in=batch)
            .order_by("id")
            .values_list(*_SERVICE_FIELDS)
        ]
        pending = {
            p.service_id: p
            for p in PendingChange.objects.filter(
                effective_on__lte=rules.date, service__client_id__in=batch
            )
        }
        found = _due_services(rows, pending, book)
        terms = ClientBillingSettings.objects.filter(client_id__in=batch)
        services += found
        wallets.update(build_wallets(wallet_rows, (s.wallet_key for s in found), terms)[0])
    return services, wallets


def _pending_changes(rules: RunRules, lo: int, hi: int | None) -> dict[int, PendingChange]:
    qs = client_range(
        PendingChange.objects.filter(effective_on__lte=rules.date), lo, hi, "service__client_id"
    )
    return {p.service_id: p for p in qs}


def _due_services(
    rows: list[dict[str, Any]],
    pending: dict[int, PendingChange],
    book: PriceBook,
    *,
    hourly: bool = False,
) -> list[DueService]:
    """The plan's view of the rows; ``hourly`` rows are timed to the hour (``paid_until_at``,
    and the suspension's moment rather than its day)."""
    policies = book.policies(
        {r["tariff_id"] for r in rows} | {p.tariff_id for p in pending.values()}
    )
    priced = []
    for r in rows:
        change = pending.get(r["id"])
        tariff_id = change.tariff_id if change else r["tariff_id"]
        addons = change.addon_values if change else r["addon_values"]
        renew = renew_period_of(r["period"], r["auto_renew_period"])
        price, error = _price_or_error(book, r, renew, tariff_id, addons)
        info = book.info(tariff_id, r["currency"]) if price is not None and renew else None
        priced.append((r, renew, price, error, info))
    taxes = _renewal_taxes(priced)
    out = []
    for r, renew, price, error, info in priced:
        policy = policies[r["tariff_id"]]
        suspended_at = r["suspended_at"]
        out.append(
            DueService(
                id=r["id"],
                client_id=r["client_id"],
                provider_id=r["provider_id"],
                currency=r["currency"],
                status=r["status"],
                paid_until=r["paid_until_at"] if hourly else r["paid_until"],
                renew_period=renew,
                billing_mode=r["billing_mode"],
                anchor_day=r["anchor_day"],
                delete_at_period_end=r["delete_at_period_end"],
                suspended_on=_suspended_on(suspended_at, hourly),
                module_instance_id=r["module_instance_id"],
                no_suspend_weekends=policy.no_suspend_weekends,
                auto_delete_days=policy.auto_delete_days,
                price_minor=price,
                price_error=error,
                period=r["period"],
                prorata_day=r["prorata_day"],
                tax=taxes.get(r["id"], NO_TAX),
                label=service_label(r["id"], r["name"], info.name if info else ""),
            )
        )
    return out


def _renewal_taxes(priced: list[tuple[Any, ...]]) -> dict[int, ItemTax]:
    """The tax of one renewal of each priced service (``billing.taxes``, the checkout's
    rules): a few queries per chunk, none when the providers have no tax rules."""
    due = [(r, price, info) for r, _renew, price, _e, info in priced if info is not None and price]
    if not due:
        return {}
    taxes = price_taxes(
        [
            TaxQuery(r["id"], r["client_id"], r["provider_id"], price, info.product_type)
            for r, price, info in due
        ]
    )
    return {r["id"]: t for (r, _p, _i), t in zip(due, taxes, strict=True) if t is not NO_TAX}


def _suspended_on(suspended_at: datetime | None, hourly: bool) -> date | None:
    if suspended_at is None:
        return None
    return suspended_at if hourly else suspended_at.date()


def _price_or_error(
    book: PriceBook, r: dict[str, Any], renew: str | None, tariff_id: int, addons: Any
) -> tuple[int | None, str]:
    if renew is None:
        return 0, ""
    if (renew == Period.HOUR) != (r["period"] == Period.HOUR) or renew == Period.TRIAL:
        # An hourly service renews by the hour and nothing else does (its paid time is a
        # moment, theirs a date); a trial is no renewal period. Fails alone, as unpriceable.
        return None, "invalid_auto_renew_period"
    try:
        return service_price(
            book,
            tariff_id=tariff_id,
            currency=r["currency"],
            period=renew,
            addon_values=addons or {},
            special_price_minor=r["special_price_minor"],
        ), ""
    except BillowError as exc:
        return None, exc.code


def _already_charged(
    rows: list[dict[str, Any]], rules: RunRules, lo: int, hi: int | None
) -> frozenset[tuple[int, date]]:
    """(service, period start) pairs of due periods that were charged already (defensive: a
    charge and its paid_until move commit together, so this is normally empty)."""
    starts = {r["paid_until"] for r in rows if r["paid_until"] <= rules.date}
    if not starts:
        return frozenset()
    qs = client_range(
        Expense.objects.filter(kind="charge", reason="period", period_from__in=starts), lo, hi
    )
    return frozenset(qs.values_list("service_id", "period_from"))


# -- the hourly run ---------------------------------------------------------------------------

_HOURLY_FIELDS = (*_SERVICE_FIELDS, "paid_until_at")


def hourly_candidates(rules: RunRules) -> QuerySet[Service]:
    """Hourly services the hourly run looks at: every one active or suspended (their hours are
    always due within the notice window; suspended ones wait for payment or deletion)."""
    return Service.objects.filter(
        period=Period.HOUR, status__in=RUN_STATUSES, paid_until_at__isnull=False
    )


def load_hourly_chunk(rules: RunRules, lo: int, hi: int | None, book: PriceBook) -> ChunkData:
    """``load_chunk`` for the hourly services of clients ``lo <= id < hi``: lock the wallets
    of the clients that have them, then the services, and read what the plan needs."""
    qs = client_range(hourly_candidates(rules), lo, hi).order_by("id")
    client_ids = sorted(set(qs.values_list("client_id", flat=True)))
    wallet_rows = lock_wallets_of_clients(client_ids)
    if connection.features.has_select_for_update:
        qs = qs.select_for_update()
    rows = [dict(zip(_HOURLY_FIELDS, r, strict=True)) for r in qs.values_list(*_HOURLY_FIELDS)]
    services = _with_hour_taxes(_due_services(rows, {}, book, hourly=True))
    terms = ClientBillingSettings.objects.filter(client_id__in=client_ids)
    wallets, wallet_ids = build_wallets(wallet_rows, (s.wallet_key for s in services), terms)
    return ChunkData(services, wallets, wallet_ids, _hours_charged(rows, rules))


def _with_hour_taxes(services: list[DueService]) -> list[DueService]:
    """Each taxed hourly service with the tax of every hour of the day, the remainder carried:
    hour ``h`` (UTC) is taxed ``T(h + 1) - T(h)``, ``T(n)`` being the tax of ``n`` hours'
    price, so a day's hours carry the tax of the day's amount (0.02 an hour at 19 % is not
    0.00 of tax every hour, but 0.38 a day in all; the service's hours of a day, however many,
    are never more than one minor unit from their exact share). One pricing per distinct price
    and kind of payer (``price_taxes`` caches)."""
    taxed = [
        s for s in services if s.tax is not NO_TAX and not s.tax.reverse_charge and s.price_minor
    ]
    if not taxed:
        return services
    hours = range(1, 25)
    taxes = price_taxes(
        [
            TaxQuery(s.id, s.client_id, s.provider_id, (s.price_minor or 0) * n)
            for s in taxed
            for n in hours
        ]
    )
    by_id: dict[int, tuple[ItemTax, ...]] = {}
    for i, s in enumerate(taxed):
        cumulative = [ItemTax(rate=s.tax.rate), *taxes[i * 24 : (i + 1) * 24]]
        by_id[s.id] = tuple(
            ItemTax(
                cumulative[h + 1].tax_minor - cumulative[h].tax_minor,
                cumulative[h + 1].tax_added_minor - cumulative[h].tax_added_minor,
                s.tax.rate,
            )
            for h in range(24)
        )
    return [replace(s, hour_taxes=by_id[s.id]) if s.id in by_id else s for s in services]


def _hours_charged(rows: list[dict[str, Any]], rules: RunRules) -> frozenset[tuple[int, date]]:
    """(service, hour) pairs of due first hours charged already (defensive, as
    ``_already_charged``: a charge and its ``paid_until_at`` move commit together)."""
    keys = {
        hour_charge_key(r["id"], r["paid_until_at"]): (r["id"], r["paid_until_at"])
        for r in rows
        if r["paid_until_at"] <= rules.date
    }
    if not keys:
        return frozenset()
    found = Expense.objects.filter(key__in=list(keys)).values_list("key", flat=True)
    return frozenset(keys[k] for k in found)


def service_labels(service_ids: set[int]) -> dict[int, str]:
    """How documents and statements name services (``statement.service_label``): one query
    per ``PAYER_BATCH`` ids (SQLite's bound-parameter cap)."""
    ids = sorted(service_ids)
    out: dict[int, str] = {}
    for start in range(0, len(ids), PAYER_BATCH):
        rows = Service.objects.filter(pk__in=ids[start : start + PAYER_BATCH]).values_list(
            "pk", "name", "tariff__name"
        )
        out.update((pk, service_label(pk, name, tariff)) for pk, name, tariff in rows)
    return out
