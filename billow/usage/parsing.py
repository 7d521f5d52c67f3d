"""Bulk upload bodies, read as a stream: JSON lines or CSV (docs/usage.md).

Lines are read in chunks of ``CHUNK_BYTES`` and parsed one at a time, so a 1 GB body costs the
memory of one chunk plus one ingestion batch. Every line gives either a ``RecordIn`` or a
``RecordError`` (its line number and code); a malformed line never stops the rest.

A record: ``service`` (id), ``parameter`` (``[A-Za-z0-9_.:-]``, up to 64), ``ts`` (ISO 8601
with an offset, or Unix seconds), ``value`` (a non-negative number; JSON numbers are read as
decimals, never floats) and an optional ``event_id`` (printable ASCII without spaces, quotes or
backslashes, up to 128).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, NamedTuple, Protocol

from billow.core.jsonlimits import MAX_JSON_DEPTH, json_depth
from billow.usage.errors import UnsupportedBodyError, UsageFormatError

CHUNK_BYTES = 1 << 20
#: Values above this are refused (a month of them still fits the rollup columns).
MAX_VALUE = Decimal(10) ** 15
PARAMETER_PATTERN = re.compile(r"[A-Za-z0-9_.:-]{1,64}\Z")
_EVENT_ID = re.compile(r"[!#-&(-\[\]-~]{1,128}\Z")  # printable ASCII but space, " ' and \
_MICRO = Decimal("0.000001")

JSON_TYPES = frozenset({"application/x-ndjson", "application/jsonl", "application/json-lines"})
CSV_TYPES = frozenset({"text/csv", "application/csv"})
CSV_COLUMNS = ("service", "parameter", "ts", "value")


class RecordIn(NamedTuple):
    """One parsed record (a tuple: millions are made per upload)."""

    line: int
    service_id: int
    parameter: str
    ts: datetime
    value: Decimal
    event_id: str | None


@dataclass(frozen=True, slots=True)
class RecordError:
    line: int
    code: str
    message: str
    service_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"line": self.line, "code": self.code, "message": self.message}
        if self.service_id is not None:
            out["service"] = self.service_id
        return out


class Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


def iter_lines(stream: Readable) -> Iterator[bytes]:
    """The body's lines (without line ends), read ``CHUNK_BYTES`` at a time."""
    tail = b""
    while True:
        chunk = stream.read(CHUNK_BYTES)
        if not chunk:
            break
        lines = (tail + chunk).split(b"\n")
        tail = lines.pop()
        yield from lines
    if tail:
        yield tail


def parse_ts(raw: Any) -> datetime:
    if isinstance(raw, str) and (raw.endswith("Z") or raw.endswith("+00:00")):
        ts = datetime.fromisoformat(raw)
        if ts.tzinfo is UTC:  # the common case: already UTC, no conversion
            return ts
    if isinstance(raw, datetime):
        if raw.tzinfo is None:
            raise ValueError("ts needs a UTC offset")
        return raw.astimezone(UTC)
    if isinstance(raw, int | Decimal) and not isinstance(raw, bool):
        return datetime.fromtimestamp(int(raw), tz=UTC)
    if not isinstance(raw, str):
        raise ValueError("ts must be a string or a number")
    if raw.isdigit():
        return datetime.fromtimestamp(int(raw), tz=UTC)
    ts = datetime.fromisoformat(raw)
    if ts.tzinfo is None:
        raise ValueError("ts needs a UTC offset")
    return ts.astimezone(UTC)


def parse_value(raw: Any) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, int | str | Decimal):
        raise ValueError("value must be a number")
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(raw)
    except InvalidOperation:
        raise ValueError("value must be a number") from None
    if not value.is_finite() or value < 0 or value >= MAX_VALUE:
        raise ValueError("value must be a number from 0 below 10^15")
    if value.as_tuple().exponent < -6:  # type: ignore[operator]
        value = value.quantize(_MICRO, ROUND_HALF_UP)
    return value


def build_record(
    line: int, service: Any, parameter: Any, ts: Any, value: Any, event_id: Any
) -> RecordIn | RecordError:
    try:
        if isinstance(service, bool):
            raise ValueError("service must be an id")
        service_id = int(service)
        if not isinstance(parameter, str) or not PARAMETER_PATTERN.match(parameter):
            raise ValueError("parameter must be 1-64 of A-Z a-z 0-9 _ . : -")
        if event_id in (None, ""):
            event_id = None
        elif not isinstance(event_id, str) or not _EVENT_ID.match(event_id):
            raise ValueError("event_id must be 1-128 printable ASCII without spaces or quotes")
        return RecordIn(line, service_id, parameter, parse_ts(ts), parse_value(value), event_id)
    except (ValueError, TypeError, OverflowError) as exc:
        return RecordError(line, "bad_record", str(exc))


#: A line in the documented shape and key order (what agents and our bench send), read without
#: the json module: numbers keep their exact text. Anything else goes through ``json.loads``.
CANONICAL_LINE = re.compile(
    rb'\{\s*"service"\s*:\s*(?:(\d{1,19})|"(\d{1,19})")\s*,'
    rb'\s*"parameter"\s*:\s*"([A-Za-z0-9_.:-]{1,64})"\s*,'
    rb'\s*"ts"\s*:\s*(?:(\d{1,12})|"([0-9TZ:.+-]{1,40})")\s*,'
    rb'\s*"value"\s*:\s*(?:(0|[1-9]\d{0,15}(?:\.\d{1,6})?|0\.\d{1,6})|"(\d{1,16}(?:\.\d{1,6})?)")\s*'
    rb'(?:,\s*"event_id"\s*:\s*"([!#-&(-\[\]-~]{1,128})"\s*)?\}\s*\Z'
)


def _canonical_value(text: str) -> Decimal:
    """A value the pattern already checked (digits, at most 6 decimals): only the cap."""
    value = Decimal(text)
    if value >= MAX_VALUE:
        raise ValueError("value must be a number from 0 below 10^15")
    return value


def _canonical(number: int, match: re.Match[bytes]) -> RecordIn | RecordError:
    service, service_text, parameter, ts, ts_text, value, value_text, event_id = match.groups()
    try:
        return RecordIn(
            number,
            int(service or service_text),
            parameter.decode(),
            parse_ts((ts or ts_text).decode()),
            _canonical_value((value or value_text).decode()),
            event_id.decode() if event_id is not None else None,
        )
    except (ValueError, OverflowError) as exc:
        return RecordError(number, "bad_record", str(exc))


def parse_json_lines(lines: Iterable[bytes], first: int = 1) -> Iterator[RecordIn | RecordError]:
    """Each line's record or error; lines are numbered from ``first``."""
    match = CANONICAL_LINE.match
    for number, raw in enumerate(lines, start=first):
        canonical = match(raw)
        if canonical is not None:
            yield _canonical(number, canonical)
            continue
        if not raw.strip():
            continue
        if json_depth(raw) > MAX_JSON_DEPTH:  # json.loads would recurse into a RecursionError
            yield RecordError(number, "bad_record", "nested too deeply")
            continue
        try:
            item = json.loads(raw, parse_float=Decimal)
        except ValueError as exc:
            yield RecordError(number, "bad_record", f"not JSON: {exc}")
            continue
        if not isinstance(item, dict):
            yield RecordError(number, "bad_record", "a line must be a JSON object")
            continue
        yield build_record(
            number,
            item.get("service", item.get("service_id")),
            item.get("parameter"),
            item.get("ts"),
            item.get("value"),
            item.get("event_id"),
        )


@dataclass(frozen=True, slots=True)
class CsvColumns:
    """Where a CSV upload's header puts each column."""

    names: tuple[str, ...]
    at: dict[str, int]

    def record(self, number: int, row: list[str]) -> RecordIn | RecordError | None:
        """The record of one row (None: an empty row, skipped)."""
        if not row or (len(row) == 1 and not row[0].strip()):
            return None
        if len(row) != len(self.names):
            return RecordError(
                number, "bad_record", f"expected {len(self.names)} columns, got {len(row)}"
            )
        at = self.at
        event_at = at.get("event_id")
        return build_record(
            number,
            row[at["service"]],
            row[at["parameter"]],
            row[at["ts"]],
            row[at["value"]],
            row[event_at] if event_at is not None else None,
        )


def csv_columns(header: list[str]) -> CsvColumns:
    """The columns a header names (``service_id`` may stand for ``service``); a header without
    the four needed columns is refused."""
    names = [name.strip().lower() for name in header]
    if names and names[0] == "service_id":
        names[0] = "service"
    missing = [c for c in CSV_COLUMNS if c not in names]
    if missing:
        raise UsageFormatError(f"the CSV header lacks {', '.join(missing)}", columns=names)
    at = {name: names.index(name) for name in (*CSV_COLUMNS, "event_id") if name in names}
    return CsvColumns(tuple(names), at)


def parse_csv(lines: Iterable[bytes]) -> Iterator[RecordIn | RecordError]:
    """CSV with a header naming the columns ``service,parameter,ts,value[,event_id]``."""
    reader = csv.reader(line.decode("utf-8", "replace") for line in lines)
    header = next(reader, None)
    if header is None:
        return
    columns = csv_columns(header)
    for number, row in enumerate(reader, start=2):
        item = columns.record(number, row)
        if item is not None:
            yield item


def parse_body(stream: Readable, content_type: str) -> Iterator[RecordIn | RecordError]:
    """Records of a body of ``content_type`` (JSON lines or CSV); another type is refused."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind in JSON_TYPES:
        return parse_json_lines(iter_lines(stream))
    if kind in CSV_TYPES:
        return parse_csv(iter_lines(stream))
    raise UnsupportedBodyError(
        "send JSON lines (application/x-ndjson) or CSV (text/csv)", content_type=kind
    )
