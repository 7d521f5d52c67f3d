"""WHMCS -> bundle: ``tblclients``, ``tblhosting``, ``tblproducts``, ``tblinvoices`` (with
``tblcurrencies`` and ``tblclientgroups``), from a ``mysqldump`` file or CSV exports.

What becomes what (docs/migration.md):

* a client (``tblclients``): its owner login (WHMCS clients log in with their email; the
  ``password`` column holds bcrypt, or ``md5(salt.password):salt`` before WHMCS 5.3.9), a payer
  (a company when ``companyname`` is set), its group, and its credit balance (``credit``, in
  the client's currency) as the opening balance; status Active -> active, Inactive and
  Closed -> inactive;
* a product service (``tblhosting``) that is Active or Suspended: paid until ``nextduedate``
  (WHMCS's next due date is the first day not paid, like Billow's exclusive paid-until), the
  period from ``billingcycle``, the recurring ``amount`` kept as the service's special price
  (WHMCS keeps a service's price when the product's changes), ``username`` (else the domain)
  as the external id, ``server`` for the module mapping. Pending, Terminated, Cancelled, Fraud
  and Completed services, and free or one-time ones, stay behind (counted in the notes);
* invoice numbers (``tblinvoices``): per year of the invoice date the highest number
  (``invoicenum`` when numeric, else the id), so Billow's numbering continues above it.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from billow.imports.bundle import (
    Bundle,
    BundleBalance,
    BundleClient,
    BundleGroup,
    BundleInvoiceSeries,
    BundlePayer,
    BundleService,
    BundleUser,
)
from billow.imports.converters.mysqldump import Row, read_tables
from billow.imports.errors import SourceError
from billow.imports.passwords import guess_scheme

TABLES = {
    "tblclients",
    "tblhosting",
    "tblproducts",
    "tblinvoices",
    "tblcurrencies",
    "tblclientgroups",
}
CYCLES = {
    "monthly": "1m",
    "quarterly": "3m",
    "semi-annually": "6m",
    "annually": "12m",
    "biennially": "24m",
    "triennially": "36m",
}
LANGUAGES = {"english": "en", "russian": "ru", "spanish": "es", "": "en"}
SUSPENDED_FOR_NONPAYMENT = "overdue on payment"


def convert(path: Path) -> Bundle:
    tables = read_tables(path, TABLES)
    if not tables["tblclients"]:
        raise SourceError(f"{path} holds no tblclients rows", code="source_table_missing")
    currencies = {r["id"]: (r["code"] or "").upper() for r in tables["tblcurrencies"]}
    defaults = [currencies[r["id"]] for r in tables["tblcurrencies"] if r.get("default") == "1"]
    default_currency = defaults[0] if defaults else "USD"
    notes: Counter[str] = Counter()
    groups = tuple(
        BundleGroup(source_id=_s(r, "id"), name=_s(r, "groupname"))
        for r in tables["tblclientgroups"]
    )
    group_ids = {g.source_id for g in groups}
    clients, users, payers, balances = [], [], [], []
    client_currency: dict[str, str] = {}
    for r in tables["tblclients"]:
        source_id = _s(r, "id")
        currency = currencies.get(_s(r, "currency"), default_currency)
        client_currency[source_id] = currency
        person = f"{_s(r, 'firstname')} {_s(r, 'lastname')}".strip()
        language = LANGUAGES.get(_s(r, "language").lower())
        if language is None:
            notes["client language not in Billow, set to English"] += 1
        clients.append(
            BundleClient(
                source_id=source_id,
                email=_s(r, "email"),
                name=_s(r, "companyname") or person,
                status="active" if _s(r, "status") == "Active" else "inactive",
                language=language or "en",
                country=_s(r, "country"),
                contact_person=person,
                comment=_s(r, "notes"),
                created_at=_day_start(r, "datecreated"),
                groups=(_s(r, "groupid"),) if _s(r, "groupid") in group_ids else (),
            )
        )
        password = _s(r, "password")
        scheme = guess_scheme(password)
        if not scheme:
            notes["client login without a verifiable password (reset link)"] += 1
        users.append(
            BundleUser(
                source_id=source_id,
                client=source_id,
                email=_s(r, "email"),
                owner=True,
                password_hash=password if scheme else "",
                password_scheme=scheme,
            )
        )
        payers.append(_payer(r, source_id, person))
        credit = Decimal(_s(r, "credit") or "0")
        if credit:
            balances.append(BundleBalance(client=source_id, currency=currency, amount=credit))
    services = _services(tables, client_currency, notes)
    return Bundle(
        source="whmcs",
        groups=groups,
        clients=tuple(clients),
        users=tuple(users),
        payers=tuple(payers),
        balances=tuple(balances),
        services=tuple(services),
        invoice_series=_series(tables["tblinvoices"]),
        notes=tuple(f"{count} x {what}" for what, count in sorted(notes.items())),
    )


def _s(row: Row, column: str) -> str:
    return (row.get(column) or "").strip()


def _day_start(row: Row, column: str) -> datetime | None:
    """The start (UTC) of a date column; ``None`` for MySQL's zero date."""
    day = _s(row, column)[:10]
    if not day or day.startswith("0000"):
        return None
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=UTC)


def _payer(row: Row, source_id: str, person: str) -> BundlePayer:
    company = _s(row, "companyname")
    address = ", ".join(p for p in (_s(row, "address1"), _s(row, "address2")) if p)
    return BundlePayer(
        source_id=source_id,
        client=source_id,
        kind="company" if company else "individual",
        name=company or person or _s(row, "email"),
        email=_s(row, "email"),
        phone=_s(row, "phonenumber")[:40],
        tax_id=_s(row, "tax_id"),
        country=_s(row, "country"),
        region=_s(row, "state"),
        postcode=_s(row, "postcode"),
        city=_s(row, "city"),
        address=address,
    )


def _services(
    tables: dict[str, list[Row]], client_currency: dict[str, str], notes: Counter[str]
) -> list[BundleService]:
    products = {_s(r, "id"): _s(r, "name") for r in tables["tblproducts"]}
    out = []
    for r in tables["tblhosting"]:
        status = _s(r, "domainstatus")
        if status not in ("Active", "Suspended"):
            notes[f"{status or 'unknown'} service left behind"] += 1
            continue
        period = CYCLES.get(_s(r, "billingcycle").lower())
        due = _s(r, "nextduedate")
        if period is None or not due or due.startswith("0000"):
            notes[f"{_s(r, 'billingcycle') or 'no'}-cycle service left behind"] += 1
            continue
        client = _s(r, "userid")
        reason = _s(r, "suspendreason").lower()
        suspended = (
            "suspended_nonpayment" if reason == SUSPENDED_FOR_NONPAYMENT else "suspended_staff"
        )
        out.append(
            BundleService(
                source_id=_s(r, "id"),
                client=client,
                product=_s(r, "packageid"),
                currency=client_currency.get(client, "USD"),
                paid_until=date.fromisoformat(due),
                status="active" if status == "Active" else suspended,
                name=_s(r, "domain") or products.get(_s(r, "packageid"), ""),
                period=period,
                external_id=_s(r, "username") or _s(r, "domain"),
                server=_s(r, "server") if _s(r, "server") not in ("", "0") else "",
                special_price=Decimal(_s(r, "amount") or "0"),
                created_at=_day_start(r, "regdate"),
            )
        )
    return out


def _series(invoices: list[Row]) -> tuple[BundleInvoiceSeries, ...]:
    last: dict[int, int] = {}
    for r in invoices:
        day = _s(r, "date")
        if not day or day.startswith("0000"):
            continue
        number = _s(r, "invoicenum")
        value = int(number) if number.isdigit() else int(_s(r, "id"))
        year = int(day[:4])
        last[year] = max(last.get(year, 0), value)
    return tuple(BundleInvoiceSeries(year=y, last_number=n) for y, n in sorted(last.items()))
