"""Decide what an import would do, without writing: each bundle row is *created*, *changed*
(imported before, the source row differs since), *unchanged* (imported before, same row),
*kept* (changed in the source, but Billow's copy is the one staff edit: users, payers, groups)
or *refused* with a stable code. The dry run prints this plan; the real run writes exactly it.

The plan is built from the bundle, the resolved mapping and what ``ImportState`` read (the
records of earlier runs, the logins already taken): the row checks are the owning apps'
validators, so a refusal here is the refusal the write would meet.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from billow.accounts import validators as account_validators
from billow.accounts.imports import ImportedClient, check_statuses
from billow.accounts.models import Payer, PayerKind
from billow.catalog.models import Tariff
from billow.core.errors import BillowError
from billow.core.money import exponent
from billow.imports import passwords
from billow.imports.bundle import (
    Bundle,
    BundleBalance,
    BundleClient,
    BundleInvoiceSeries,
    BundlePayer,
    BundleService,
)
from billow.imports.errors import MigrationImportError
from billow.imports.mapping import Mapping
from billow.services.actions import (
    ImportedService,
    check_import_offer,
    check_import_values,
    check_reimport_status,
)

KINDS = ("group", "client", "user", "payer", "balance", "service", "invoice_series")
OUTCOMES = ("create", "change", "unchanged", "kept", "refused")


@dataclass(frozen=True, slots=True)
class Record:
    """What an earlier run imported for a source row."""

    target_id: int | None
    fingerprint: str


@dataclass(frozen=True, slots=True)
class ImportState:
    """Read before planning: ``records[(kind, source_id)]``, the logins (lower-case emails)
    that exist and were not made by this source, the status of every imported service."""

    records: dict[tuple[str, str], Record]
    taken_emails: frozenset[str]
    service_statuses: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Refusal:
    kind: str
    source_id: str
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Planned:
    """One row to create or change; ``target_id`` is Billow's row for a change."""

    source_id: str
    fingerprint: str
    row: Any
    target_id: int | None = None
    value: Any = None  # the row in the owner's terms (ImportedClient, ImportedService, ...)


@dataclass(slots=True)
class Plan:
    source: str
    provider_id: int
    create: dict[str, list[Planned]] = field(default_factory=lambda: defaultdict(list))
    change: dict[str, list[Planned]] = field(default_factory=lambda: defaultdict(list))
    refused: list[Refusal] = field(default_factory=list)
    counts: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    offers: dict[tuple[Any, ...], BillowError | None] = field(default_factory=dict)

    def add(self, kind: str, outcome: str, planned: Planned | None = None) -> None:
        self.counts[kind][outcome] += 1
        if outcome == "create" and planned is not None:
            self.create[kind].append(planned)
        elif outcome == "change" and planned is not None:
            self.change[kind].append(planned)

    def refuse(self, kind: str, source_id: str, code: str, message: str) -> None:
        self.counts[kind]["refused"] += 1
        self.refused.append(Refusal(kind, source_id, code, message))

    def summary(self) -> dict[str, dict[str, int]]:
        return {k: {o: self.counts[k][o] for o in OUTCOMES} for k in KINDS if self.counts[k]}


def fingerprint(row: Any) -> str:
    """A digest of the bundle row (its dataclass repr: every field, typed, in order)."""
    return hashlib.sha1(repr(row).encode(), usedforsecurity=False).hexdigest()


def plan_import(bundle: Bundle, mapping: Mapping, state: ImportState) -> Plan:
    plan = Plan(source=bundle.source, provider_id=mapping.provider.pk)
    for group in bundle.groups:
        _classify(plan, state, "group", group.source_id, group, kept_on_change=True)
    known_groups = {g.source_id for g in bundle.groups} | _imported(state, "group")
    clients_ok = _plan_clients(plan, bundle, state, known_groups)
    _plan_users(plan, bundle, state, clients_ok)
    for payer in bundle.payers:
        if _client_ok(plan, "payer", payer.source_id, payer.client, clients_ok):
            _plan_payer(plan, state, payer)
    for balance in bundle.balances:
        if _client_ok(
            plan, "balance", f"{balance.client}:{balance.currency}", balance.client, clients_ok
        ):
            _plan_balance(plan, state, balance)
    for service in bundle.services:
        if _client_ok(plan, "service", service.source_id, service.client, clients_ok):
            _plan_service(plan, state, mapping, service)
    for series in bundle.invoice_series:
        _plan_series(plan, state, series)
    return plan


def _imported(state: ImportState, kind: str) -> set[str]:
    return {source_id for k, source_id in state.records if k == kind}


def _classify(
    plan: Plan,
    state: ImportState,
    kind: str,
    source_id: str,
    row: Any,
    *,
    value: Any = None,
    kept_on_change: bool = False,
) -> str:
    """Create / change / unchanged / kept for a row that passed its checks."""
    print_ = fingerprint(row)
    record = state.records.get((kind, source_id))
    if record is None:
        plan.add(kind, "create", Planned(source_id, print_, row, value=value))
        return "create"
    if record.fingerprint == print_:
        plan.add(kind, "unchanged")
        return "unchanged"
    if kept_on_change:
        plan.add(kind, "kept")
        return "kept"
    plan.add(kind, "change", Planned(source_id, print_, row, record.target_id, value))
    return "change"


def _client_ok(plan: Plan, kind: str, source_id: str, client: str, clients_ok: set[str]) -> bool:
    if client in clients_ok:
        return True
    plan.refuse(kind, source_id, "unknown_client", f"client {client!r} is not imported")
    return False


# --- clients and users ------------------------------------------------------------------------


def _plan_clients(
    plan: Plan, bundle: Bundle, state: ImportState, known_groups: set[str]
) -> set[str]:
    owners = Counter(u.client for u in bundle.users if u.owner)
    imported = _imported(state, "client")
    ok = set(imported)
    for client in bundle.clients:
        try:
            value = _client_value(bundle.source, client, known_groups)
        except BillowError as exc:
            plan.refuse("client", client.source_id, exc.code, exc.message)
            ok.discard(client.source_id)
            continue
        if client.source_id not in imported and owners[client.source_id] != 1:
            code = "owner_missing" if not owners[client.source_id] else "owner_duplicate"
            plan.refuse("client", client.source_id, code, "a client needs exactly one owner user")
            continue
        _classify(plan, state, "client", client.source_id, client, value=value)
        ok.add(client.source_id)
    return ok


def _client_value(source: str, client: BundleClient, known_groups: set[str]) -> ImportedClient:
    email = account_validators.check_email(client.email)
    check_statuses([client.status])
    missing = [g for g in client.groups if g not in known_groups]
    if missing:
        raise MigrationImportError(f"unknown group {missing[0]!r}", code="unknown_group")
    return ImportedClient(
        name=client.name or client.contact_person or email,
        email=email,
        status=client.status,
        language=account_validators.check_language(client.language or "en"),
        country=account_validators.check_country(client.country),
        contact_person=client.contact_person,
        comment=client.comment,
        created_at=client.created_at,
        source=f"{source}:{client.source_id}",
    )


def _plan_users(plan: Plan, bundle: Bundle, state: ImportState, clients_ok: set[str]) -> None:
    emails = Counter(account_validators.normalize_email(u.email) for u in bundle.users)
    for user in bundle.users:
        if not _client_ok(plan, "user", user.source_id, user.client, clients_ok):
            continue
        try:
            email = account_validators.check_email(user.email)
            perms = (
                account_validators.check_permissions(user.permissions) if user.permissions else []
            )
        except BillowError as exc:
            plan.refuse("user", user.source_id, exc.code, exc.message)
            continue
        new = ("user", user.source_id) not in state.records
        if new and (email in state.taken_emails or emails[email] > 1):
            code = "email_taken" if email in state.taken_emails else "duplicate_email"
            plan.refuse("user", user.source_id, code, f"the login {email} is taken")
            continue
        encoded = passwords.encode(user.password_scheme, user.password_hash)
        _classify(
            plan,
            state,
            "user",
            user.source_id,
            user,
            value=(email, encoded, perms),
            kept_on_change=True,
        )


# --- payers, balances, services, numbering ----------------------------------------------------


def _plan_payer(plan: Plan, state: ImportState, payer: BundlePayer) -> None:
    company = payer.kind in (PayerKind.COMPANY, PayerKind.SOLE_PROPRIETOR)
    fields: dict[str, Any] = {"email": payer.email, "phone": payer.phone, "tax_id": payer.tax_id}
    prefix = "legal_" if company else ""
    fields.update(
        {
            f"{prefix}country": payer.country,
            f"{prefix}region": payer.region,
            f"{prefix}postcode": payer.postcode,
            f"{prefix}city": payer.city,
            f"{prefix}address": payer.address,
        }
    )
    candidate = Payer(kind=payer.kind, name=payer.name, **fields)
    try:
        account_validators.check_payer(candidate)
    except BillowError as exc:
        plan.refuse("payer", payer.source_id, exc.code, exc.message)
        return
    value = {f: getattr(candidate, f) for f in fields}
    _classify(plan, state, "payer", payer.source_id, payer, value=value, kept_on_change=True)


def amount_minor(amount: Decimal, currency: str) -> int:
    """``amount`` in minor units; ``amount_precision`` when it has more decimals than the
    currency (a migration never rounds money)."""
    scaled = amount.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise MigrationImportError(
            f"{amount} has more decimals than {currency} allows", code="amount_precision"
        )
    return int(scaled)


def _plan_balance(plan: Plan, state: ImportState, balance: BundleBalance) -> None:
    source_id = f"{balance.client}:{balance.currency}"
    try:
        account_validators.check_currency(balance.currency)
        minor = amount_minor(balance.amount, balance.currency)
    except BillowError as exc:
        plan.refuse("balance", source_id, exc.code, exc.message)
        return
    record = state.records.get(("balance", source_id))
    before = int(record.fingerprint.split(":", 1)[1]) if record is not None else 0
    # The fingerprint of a balance is its amount: a change posts the difference.
    print_ = f"amount:{minor}"
    planned = Planned(source_id, print_, balance, value=minor - before)
    if record is None:
        plan.add("balance", "create", planned)
    elif record.fingerprint == print_:
        plan.add("balance", "unchanged")
    else:
        plan.add("balance", "change", planned)


def _plan_service(plan: Plan, state: ImportState, mapping: Mapping, service: BundleService) -> None:
    target = mapping.tariffs.get(service.product)
    if target is None:
        plan.refuse(
            "service",
            service.source_id,
            "tariff_not_mapped",
            f"product {service.product!r} has no tariff in the mapping",
        )
        return
    try:
        special = (
            amount_minor(service.special_price, service.currency)
            if service.special_price is not None
            else None
        )
        value = ImportedService(
            tariff_id=target.tariff.pk,
            period=service.period or target.period or "1m",
            currency=service.currency,
            status=service.status,
            paid_until=service.paid_until,
            name=service.name,
            external_id=service.external_id,
            module_instance_id=mapping.servers.get(service.server),
            special_price_minor=special,
            auto_renew=service.auto_renew,
            ordered_at=service.created_at,
            source=f"{plan.source}:{service.source_id}",
        )
        check_import_values(value)
        _check_offer(plan, target.tariff, value)
        record = state.records.get(("service", service.source_id))
        if record is not None and record.target_id in state.service_statuses:
            check_reimport_status(state.service_statuses[record.target_id], service.status)
    except BillowError as exc:
        plan.refuse("service", service.source_id, exc.code, exc.message)
        return
    _classify(plan, state, "service", service.source_id, service, value=value)


def _check_offer(plan: Plan, tariff: Tariff, service: ImportedService) -> None:
    """``check_import_offer``, asked once per tariff, currency, period and addons."""
    key = (tariff.pk, service.currency, service.period, tuple(sorted(service.addon_values.items())))
    if key not in plan.offers:
        try:
            check_import_offer(tariff, service.currency, service.period, service.addon_values)
            plan.offers[key] = None
        except BillowError as exc:
            plan.offers[key] = exc
    refusal = plan.offers[key]
    if refusal is not None:
        raise refusal


def _plan_series(plan: Plan, state: ImportState, series: BundleInvoiceSeries) -> None:
    source_id = f"{series.kind}:{series.year}"
    if series.kind not in ("invoice", "credit_note") or series.last_number < 0:
        plan.refuse("invoice_series", source_id, "invalid_series", "unknown kind or number")
        return
    _classify(plan, state, "invoice_series", source_id, series, value=series)
