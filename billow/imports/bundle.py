"""The import bundle, format version 1: what another billing system hands over to Billow.

Two spellings of the same content (docs/migration.md describes every field):

* one JSON file: ``{"format": "billow-import-bundle", "version": 1, "source": "whmcs",
  "groups": [...], "clients": [...], "users": [...], "payers": [...], "balances": [...],
  "services": [...], "invoice_series": [...]}``;
* a directory holding ``manifest.json`` (``format``, ``version``, ``source``) and one CSV file
  per list (``clients.csv`` ...; a missing file is an empty list). In CSV, list fields
  (a client's ``groups``, a user's ``permissions``) are separated by ``;`` and booleans are
  ``1``/``0`` (``true``/``false``, ``yes``/``no`` are read too).

Rows refer to each other by the source's ids (``source_id``; a user's ``client``). Amounts are
decimal strings in major units (``"12.50"``), never floats. Reading checks the shape only
(``BundleError`` with a stable code, the list and the row); whether a row can be imported is
the plan's business (``plan.py``).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

from django.utils.dateparse import parse_datetime

from billow.imports.errors import BundleError

FORMAT = "billow-import-bundle"
VERSION = 1
SUPPORTED_VERSIONS = frozenset({1})
#: Source ids (and "<client>:<currency>" of a balance) stay short enough for the ledger keys.
MAX_SOURCE_ID = 64


@dataclass(frozen=True, slots=True)
class BundleGroup:
    source_id: str
    name: str


@dataclass(frozen=True, slots=True)
class BundleClient:
    source_id: str
    email: str
    name: str = ""
    status: str = "active"  # active | inactive
    language: str = "en"
    country: str = ""
    contact_person: str = ""
    comment: str = ""
    created_at: datetime | None = None
    groups: tuple[str, ...] = ()  # group source ids


@dataclass(frozen=True, slots=True)
class BundleUser:
    """A login. ``password_scheme`` names how ``password_hash`` was made (``whmcs_md5``,
    ``bcrypt``, ``sha512_crypt``, ``md5_crypt``); empty or unknown: the user gets a reset
    link instead."""

    source_id: str
    client: str
    email: str
    owner: bool = False
    password_hash: str = ""
    password_scheme: str = ""
    permissions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BundlePayer:
    source_id: str
    client: str
    kind: str  # individual | company | sole_proprietor
    name: str
    email: str = ""
    phone: str = ""
    tax_id: str = ""
    country: str = ""
    region: str = ""
    postcode: str = ""
    city: str = ""
    address: str = ""


@dataclass(frozen=True, slots=True)
class BundleBalance:
    client: str
    currency: str
    amount: Decimal  # major units; positive: money the client can spend


@dataclass(frozen=True, slots=True)
class BundleService:
    source_id: str
    client: str
    product: str  # the source's product / tariff id, mapped by the mapping file
    currency: str
    paid_until: date
    status: str = "active"  # active | suspended_staff | suspended_nonpayment | ...
    name: str = ""
    period: str = ""  # empty: the mapping's period for the product
    external_id: str = ""
    server: str = ""  # the source's server / module id, mapped to a module instance
    special_price: Decimal | None = None
    auto_renew: bool = True
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class BundleInvoiceSeries:
    """The last number the source gave in a (year, kind) series; Billow continues above it."""

    year: int
    last_number: int
    kind: str = "invoice"


@dataclass(frozen=True, slots=True)
class Bundle:
    source: str
    groups: tuple[BundleGroup, ...] = ()
    clients: tuple[BundleClient, ...] = ()
    users: tuple[BundleUser, ...] = ()
    payers: tuple[BundlePayer, ...] = ()
    balances: tuple[BundleBalance, ...] = ()
    services: tuple[BundleService, ...] = ()
    invoice_series: tuple[BundleInvoiceSeries, ...] = ()
    notes: tuple[str, ...] = field(default=(), compare=False)  # what a converter left out

    def counts(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in LISTS}


#: Bundle list -> row type, in the order they are imported.
LISTS: dict[str, type[Any]] = {
    "groups": BundleGroup,
    "clients": BundleClient,
    "users": BundleUser,
    "payers": BundlePayer,
    "balances": BundleBalance,
    "services": BundleService,
    "invoice_series": BundleInvoiceSeries,
}


# --- reading ----------------------------------------------------------------------------------


def read_bundle(path: str | Path) -> Bundle:
    """A bundle from a JSON file or a CSV directory (``BundleError`` on anything malformed)."""
    path = Path(path)
    if path.is_dir():
        manifest = _load_json(path / "manifest.json")
        lists = {name: _read_csv(path / f"{name}.csv") for name in LISTS}
        return parse_bundle({**manifest, **lists})
    return parse_bundle(_load_json(path))


def _load_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BundleError(f"cannot read {path}: {exc}", code="bundle_unreadable") from None
    if not isinstance(data, dict):
        raise BundleError(f"{path} is not a JSON object", code="bundle_unreadable")
    return data


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    try:
        with path.open(encoding="utf-8", newline="") as f:
            return [dict(row) for row in csv.DictReader(f)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise BundleError(f"cannot read {path}: {exc}", code="bundle_unreadable") from None


def parse_bundle(data: Mapping[str, Any]) -> Bundle:
    if data.get("format") != FORMAT:
        raise BundleError(
            f"not a Billow import bundle (format {data.get('format')!r})",
            code="bundle_format_unknown",
        )
    version = data.get("version")
    if version not in SUPPORTED_VERSIONS:
        raise BundleError(
            f"bundle version {version!r} is not supported (this Billow reads "
            f"{sorted(SUPPORTED_VERSIONS)})",
            code="bundle_version_unsupported",
            version=version,
        )
    source = data.get("source")
    if not isinstance(source, str) or not source.strip() or len(source) > 50:
        raise BundleError("source must name the source system", code="bundle_field_invalid")
    parsed: dict[str, tuple[Any, ...]] = {}
    for name, row_type in LISTS.items():
        rows = data.get(name, [])
        if not isinstance(rows, list):
            raise BundleError(f"{name} must be a list", code="bundle_field_invalid", list=name)
        parsed[name] = tuple(_row(row_type, row, name, index) for index, row in enumerate(rows))
    bundle = Bundle(source=source.strip(), notes=tuple(data.get("notes", ())), **parsed)
    _check_unique(bundle)
    return bundle


T = TypeVar("T")


def _row(row_type: type[T], raw: Any, name: str, index: int) -> T:
    if not isinstance(raw, Mapping):
        raise BundleError(
            f"{name}[{index}] is not an object", code="bundle_field_invalid", list=name, row=index
        )
    values: dict[str, Any] = {}
    for f in fields(row_type):  # type: ignore[arg-type]
        value = raw.get(f.name)
        if value is None or value == "":
            if _is_required(f):
                raise BundleError(
                    f"{name}[{index}]: {f.name} is required",
                    code="bundle_field_missing",
                    list=name,
                    row=index,
                    field=f.name,
                )
            continue
        try:
            values[f.name] = _CONVERT[str(f.type)](value)
        except (ValueError, TypeError, InvalidOperation):
            raise BundleError(
                f"{name}[{index}]: {f.name} is not a valid {f.type}: {value!r}",
                code="bundle_field_invalid",
                list=name,
                row=index,
                field=f.name,
            ) from None
    return row_type(**values)


def _is_required(f: Any) -> bool:
    return f.default is MISSING and f.default_factory is MISSING


def _text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise TypeError(value)
    return str(value).strip()


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes"}:
        return True
    if text in {"0", "false", "no", ""}:
        return False
    raise ValueError(value)


def _decimal(value: Any) -> Decimal:
    if isinstance(value, float | bool):
        raise TypeError("amounts are decimal strings, never floats")
    dec = Decimal(str(value).strip())
    if not dec.is_finite():
        raise ValueError(value)
    return dec


def _int(value: Any) -> int:
    if isinstance(value, bool | float):
        raise TypeError(value)
    return int(str(value).strip())


def _date(value: Any) -> date:
    return date.fromisoformat(str(value).strip()[:10])


def _datetime(value: Any) -> datetime:
    parsed = parse_datetime(str(value).strip())
    if parsed is None:
        raise ValueError(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(";") if part.strip())
    if isinstance(value, list):
        return tuple(_text(v) for v in value)
    raise TypeError(value)


_CONVERT: dict[str, Callable[[Any], Any]] = {
    "str": _text,
    "bool": _bool,
    "int": _int,
    "Decimal": _decimal,
    "Decimal | None": _decimal,
    "date": _date,
    "datetime | None": _datetime,
    "tuple[str, ...]": _strings,
}


def _check_unique(bundle: Bundle) -> None:
    keyed: Iterable[tuple[str, Iterable[str]]] = (
        ("groups", (g.source_id for g in bundle.groups)),
        ("clients", (c.source_id for c in bundle.clients)),
        ("users", (u.source_id for u in bundle.users)),
        ("payers", (p.source_id for p in bundle.payers)),
        ("balances", (f"{b.client}:{b.currency}" for b in bundle.balances)),
        ("services", (s.source_id for s in bundle.services)),
        ("invoice_series", (f"{s.kind}:{s.year}" for s in bundle.invoice_series)),
    )
    for name, ids in keyed:
        seen: set[str] = set()
        for source_id in ids:
            if len(source_id) > MAX_SOURCE_ID:
                raise BundleError(
                    f"{name}: source id {source_id[:20]!r}... is longer than {MAX_SOURCE_ID}",
                    code="bundle_field_invalid",
                    list=name,
                    source_id=source_id,
                )
            if source_id in seen:
                raise BundleError(
                    f"{name}: source id {source_id!r} appears twice",
                    code="bundle_duplicate_source_id",
                    list=name,
                    source_id=source_id,
                )
            seen.add(source_id)


# --- writing (converters) ---------------------------------------------------------------------


def bundle_to_json(bundle: Bundle) -> dict[str, Any]:
    """The JSON spelling of ``bundle`` (what the converters write)."""
    out: dict[str, Any] = {"format": FORMAT, "version": VERSION, "source": bundle.source}
    for name in LISTS:
        out[name] = [row_to_json(row) for row in getattr(bundle, name)]
    if bundle.notes:
        out["notes"] = list(bundle.notes)
    return out


def row_to_json(row: Any) -> dict[str, Any]:
    """A bundle row as JSON values (defaults left out)."""
    out: dict[str, Any] = {}
    for f in fields(row):
        value = getattr(row, f.name)
        if value is None or value == () or (value == "" and not _is_required(f)):
            continue
        if isinstance(value, Decimal | date):
            value = str(value) if isinstance(value, Decimal) else value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        out[f.name] = value
    return out


def write_bundle(bundle: Bundle, path: str | Path) -> None:
    Path(path).write_text(json.dumps(bundle_to_json(bundle), indent=1, ensure_ascii=False) + "\n")
