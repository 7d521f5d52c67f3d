"""BILLmanager -> bundle: the XML of its list functions ``account``, ``user``, ``item``,
``pricelist`` and ``invoice`` (``mgrctl -m billmgr <func> -o xml > <func>.xml``, or the HTTP
API with ``out=xml``), one file per function in a directory.

Each file is ``<doc><elem>...</elem>...</doc>``, one ``elem`` per row with a child element per
field; fields not listed here are ignored (docs/migration.md lists the ones read):

* ``account``: a client (``id``, ``name``, ``email``, ``account_status``, registration date,
  ``balance`` as "123.45 RUB" or with a ``currency`` field) and its opening balance;
* ``user``: logins (``account``, ``email`` or ``name``, ``realname``, ``password`` when the
  export comes from the database: SHA-512 crypt); the account's lowest user id is its owner;
* ``item``: services (``account``, ``pricelist``, ``status``, ``expiredate``, ``period`` in
  months, ``processingmodule``, ``remoteid``); status 2 / active is imported active, 3 /
  suspended by its flag (``abusesuspend``, ``autosuspend``, else staff); ordered, processing
  and deleted services and non-monthly periods stay behind (counted in the notes);
* ``pricelist``: tariff names (the mapping file maps pricelist ids);
* ``invoice``: per year of ``cdate`` the highest trailing number of ``number``.

BILLmanager keeps ``expiredate`` as the last paid day, so the service is paid until the day
after it (Billow's paid-until is exclusive).
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from xml.etree.ElementTree import ParseError

from defusedxml import ElementTree as defused_tree
from defusedxml.common import DefusedXmlException

from billow.imports.bundle import (
    Bundle,
    BundleBalance,
    BundleClient,
    BundleInvoiceSeries,
    BundleService,
    BundleUser,
)
from billow.imports.errors import SourceError
from billow.imports.passwords import guess_scheme

FUNCTIONS = ("account", "user", "item", "pricelist", "invoice")
ACTIVE, SUSPENDED = {"2", "active"}, {"3", "suspended", "stopped"}
_BALANCE = re.compile(r"^\s*(-?[\d\s]+(?:[.,]\d+)?)\s*([A-Za-z]{3})?\s*$")
_TRAILING_NUMBER = re.compile(r"(\d+)\D*$")

Elem = dict[str, str]


def read_function(directory: Path, function: str) -> list[Elem]:
    path = directory / f"{function}.xml"
    if not path.exists():
        return []
    try:
        # defusedxml: an export is a file from elsewhere; entity expansion and external
        # entities are refused instead of expanded
        root = defused_tree.parse(path).getroot()
    except (OSError, ParseError, DefusedXmlException) as exc:
        raise SourceError(f"cannot read {path}: {exc}", code="source_unreadable") from None
    return [{child.tag: (child.text or "").strip() for child in elem} for elem in root.iter("elem")]


def convert(directory: Path) -> Bundle:
    data = {f: read_function(directory, f) for f in FUNCTIONS}
    if not data["account"]:
        raise SourceError(f"{directory} holds no account.xml rows", code="source_table_missing")
    notes: Counter[str] = Counter()
    clients, balances, currency_of = [], [], {}
    for a in data["account"]:
        amount, currency = _balance(a)
        currency_of[a["id"]] = currency
        clients.append(
            BundleClient(
                source_id=a["id"],
                email=a.get("email", ""),
                name=a.get("name", ""),
                status="active"
                if a.get("account_status", "active") in ("active", "1")
                else "inactive",
                language=a.get("lang", "ru") if a.get("lang", "ru") in ("en", "ru", "es") else "en",
                country=a.get("country", ""),
                created_at=_moment(a.get("tz_registration_date") or a.get("registration_date")),
            )
        )
        if amount:
            balances.append(BundleBalance(client=a["id"], currency=currency, amount=amount))
    return Bundle(
        source="billmanager",
        clients=tuple(clients),
        users=_users(data["user"], notes),
        balances=tuple(balances),
        services=_services(data["item"], currency_of, notes),
        invoice_series=_series(data["invoice"]),
        notes=tuple(f"{count} x {what}" for what, count in sorted(notes.items())),
    )


def _balance(account: Elem) -> tuple[Decimal, str]:
    match = _BALANCE.match(account.get("balance", "") or "0")
    if match is None:
        raise SourceError(
            f"account {account.get('id')}: balance {account.get('balance')!r} is not an amount",
            code="source_unreadable",
        )
    try:
        amount = Decimal(match[1].replace(" ", "").replace(",", "."))
    except InvalidOperation:
        raise SourceError("unreadable balance", code="source_unreadable") from None
    return amount, (match[2] or account.get("currency") or "RUB").upper()


def _moment(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _users(users: list[Elem], notes: Counter[str]) -> tuple[BundleUser, ...]:
    owners: dict[str, int] = {}
    for u in users:
        account, pk = u.get("account", ""), int(u["id"])
        owners[account] = min(owners.get(account, pk), pk)
    out = []
    for u in users:
        password = u.get("password", "")
        scheme = guess_scheme(password) if password.startswith("$") else ""
        if not scheme:
            notes["login without a verifiable password (reset link)"] += 1
        out.append(
            BundleUser(
                source_id=u["id"],
                client=u.get("account", ""),
                email=u.get("email") or u.get("name", ""),
                owner=owners.get(u.get("account", "")) == int(u["id"]),
                password_hash=password if scheme else "",
                password_scheme=scheme,
            )
        )
    return tuple(out)


def _services(
    items: list[Elem], currency_of: dict[str, str], notes: Counter[str]
) -> tuple[BundleService, ...]:
    out = []
    for item in items:
        status = item.get("status", "").lower()
        period = item.get("period", "")
        expires = item.get("expiredate", "")
        if status not in ACTIVE | SUSPENDED:
            notes[f"service in status {status or 'unknown'} left behind"] += 1
            continue
        if period not in ("1", "3", "6", "12", "24", "36") or not expires:
            notes[f"service with period {period or 'none'} left behind"] += 1
            continue
        out.append(
            BundleService(
                source_id=item["id"],
                client=item.get("account", ""),
                product=item.get("pricelist", ""),
                currency=(
                    item.get("currency") or currency_of.get(item.get("account", "")) or "RUB"
                ),
                paid_until=date.fromisoformat(expires[:10]) + timedelta(days=1),
                status="active" if status in ACTIVE else _suspension(item),
                name=item.get("name", ""),
                period=f"{period}m",
                external_id=item.get("remoteid", ""),
                server=item.get("processingmodule", ""),
                auto_renew=item.get("autoprolong", "on") not in ("off", "0", ""),
                created_at=_moment(item.get("createdate")),
            )
        )
    return tuple(out)


def _suspension(item: Elem) -> str:
    if item.get("abusesuspend") == "on":
        return "suspended_abuse"
    if item.get("autosuspend") == "on":
        return "suspended_nonpayment"
    return "suspended_staff"


def _series(invoices: list[Elem]) -> tuple[BundleInvoiceSeries, ...]:
    last: dict[int, int] = {}
    for invoice in invoices:
        number = _TRAILING_NUMBER.search(invoice.get("number", ""))
        day = invoice.get("cdate", "")
        if number is None or not day[:4].isdigit():
            continue
        year = int(day[:4])
        last[year] = max(last.get(year, 0), int(number[1]))
    return tuple(BundleInvoiceSeries(year=y, last_number=n) for y, n in sorted(last.items()))
