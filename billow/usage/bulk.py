"""Bulk uploads (``POST /api/v1/usage/records``): on PostgreSQL the lines go to the database
nearly as they came, checked and stored in SQL; elsewhere through ``ingest.ingest_records``.

The SQL path, batch by batch (``USAGE_INGEST_BATCH`` lines, each batch in its own transaction):

1. the body is read ``CHUNK_BYTES`` at a time; a chunk whose lines all have the documented
   shape (``JSON_LINE`` / the CSV header's pattern) is turned into COPY text by one regular
   expression substitution over the whole chunk (C speed, no Python object per record);
   a chunk with other lines goes line by line: documented lines the same way, the others
   through the Python parser (``parsing``), a malformed line becomes a per-record error and an
   empty placeholder row, so staged row *n* is always the batch's line *n*;
2. the batch is COPYed into a temporary staging table and ``sql.bulk_ingest_sql`` types it,
   refuses what ``ingest`` refuses (same codes, same order), stores the rest in line order
   (idempotent: ``ON CONFLICT DO NOTHING``), folds the new rows into ``ParameterDaily`` and
   returns the touched keys and the refused lines; the meter rollups and re-rate marks follow
   in the same transaction (``rollups.apply_touched``), the status hook after the commit;
3. a line the patterns let through but PostgreSQL cannot type (30 February) fails the
   statement: that batch alone is rolled back and goes through the Python path.

Memory: one chunk plus one batch (its COPY text and its original lines, for step 3).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from django.conf import settings
from django.db import DataError, transaction

from billow.core import clock, rows
from billow.services.states import ServiceStatus
from billow.usage import parsing, rollups, sql, status
from billow.usage.errors import RECORD_ERROR_CODES
from billow.usage.ingest import (
    FUTURE_SKEW,
    MAX_LISTED_ERRORS,
    IngestResult,
    ingest_records,
    late_window_start,
)
from billow.usage.models import UsageRecord
from billow.usage.parsing import (
    CSV_TYPES,
    JSON_TYPES,
    CsvColumns,
    Readable,
    RecordError,
    RecordIn,
    csv_columns,
    parse_body,
    parse_csv,
    parse_json_lines,
)
from billow.usage.selectors import MeterInfo, list_meters_for_tariffs, services_for_ingest
from billow.usage.storage import days_between, get_storage

#: The largest service id PostgreSQL's bigint holds (a larger one is no service).
MAX_SERVICE_ID = 2**63 - 1
_VALUE_ERROR = "value must be a number from 0 below 10^15"

# Pieces of the documented line shapes. Narrower than the Python parser on purpose: whatever
# they let through PostgreSQL types exactly as ``parsing`` would (ids up to 18 digits, Unix
# seconds up to 10, ISO 8601 with seconds, 0-6 decimals and a Z or +hh:mm offset); other
# spellings take the Python path line by line.
_ID = rb"\d{1,18}"
_PARAMETER = rb"[A-Za-z0-9_.:-]{1,64}"
_ISO = (
    rb"[1-9]\d{3}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
    rb"T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,6})?(?:Z|[+-](?:0\d|1[0-3]):[0-5]\d)"
)
_EPOCH = rb"\d{1,10}"
_EVENT_ID = rb"[!#-&(-\[\]-~]{1,128}"
_S = rb"[ \t]*"

#: A JSON line in the documented key order (``parsing.CANONICAL_LINE``, one line of a chunk):
#: the tokens below with optional blanks between each two.
JSON_LINE = re.compile(
    _S.join(
        [
            rb"(?m)^\{",
            rb'"service"',
            rb":",
            rb"(?:(" + _ID + rb')|"(' + _ID + rb')")',
            rb",",
            rb'"parameter"',
            rb":",
            rb'"(' + _PARAMETER + rb')"',
            rb",",
            rb'"ts"',
            rb":",
            rb"(?:(" + _EPOCH + rb')|"(' + _EPOCH + rb"|" + _ISO + rb')")',
            rb",",
            rb'"value"',
            rb":",
            rb'(?:(0|[1-9]\d{0,15}(?:\.\d{1,6})?|0\.\d{1,6})|"(\d{1,16}(?:\.\d{1,6})?)")',
            rb"(?:,",
            rb'"event_id"',
            rb":",
            rb'"(' + _EVENT_ID + rb')"',
            rb")?\}[ \t\r]*$",
        ]
    )
)
JSON_TEMPLATE = rb"\1\2\t\3\t\4\5\t\6\7\t\8"
_CSV_FIELD = {
    "service": _ID,
    "parameter": _PARAMETER,
    "ts": _EPOCH + rb"|" + _ISO,
    "value": rb"\d{1,16}(?:\.\d{1,6})?",
    "event_id": rb"(?:[!#-&(-+\--\[\]-~]{1,128})?",  # no comma: a comma is quoted in CSV
}
#: The staged columns' order.
_STAGED = ("service", "parameter", "ts", "value", "event_id")
_PLACEHOLDER = b"\t\t\t\t\n"


@dataclass(frozen=True, slots=True)
class _Shape:
    """How one upload's lines become staged rows."""

    pattern: re.Pattern[bytes]
    template: bytes
    csv: CsvColumns | None  # None: JSON lines

    def slow(self, number: int, line: bytes) -> RecordIn | RecordError | None:
        """A line the pattern does not take, by the Python parser (None: skipped)."""
        if self.csv is None:
            return next(parse_json_lines([line], first=number), None)
        row = next(csv.reader([line.decode("utf-8", "replace")]), [])
        return self.csv.record(number, row)


def _csv_shape(columns: CsvColumns) -> _Shape | None:
    """The pattern of plain (unquoted) rows of this header; None when it names other columns."""
    if set(columns.names) - set(_STAGED) or len(set(columns.names)) != len(columns.names):
        return None
    fields = rb",".join(b"(" + _CSV_FIELD[name] + b")" for name in columns.names)
    pattern = re.compile(rb"(?m)^" + fields + rb"\r?$")
    groups = {name: b"\\%d" % (i + 1) for i, name in enumerate(columns.names)}
    template = b"\t".join(groups.get(name, b"") for name in _STAGED)
    return _Shape(pattern, template, columns)


def _staged_line(record: RecordIn) -> bytes:
    # Parameters and event ids are validated to characters COPY takes as they are.
    return (
        f"{record.service_id}\t{record.parameter}\t{record.ts.isoformat()}\t{record.value}\t"
        f"{record.event_id or ''}\n"
    ).encode()


@dataclass
class _Batch:
    first_line: int
    lines: int = 0
    staged: list[bytes] = field(default_factory=list)
    original: list[bytes] = field(default_factory=list)
    refused: list[RecordError] = field(default_factory=list)


def sql_path_enabled() -> bool:
    return rows.connection_for(UsageRecord).vendor == "postgresql" and bool(
        settings.BILLOW["USAGE_INGEST_SQL"]
    )


def ingest_body(
    stream: Readable,
    content_type: str,
    *,
    module_instance_id: int | None = None,
    now: datetime | None = None,
) -> IngestResult:
    """Ingest a bulk upload body of ``content_type`` (JSON lines or CSV; another type is
    refused): on PostgreSQL by the SQL path, elsewhere by the Python one."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind not in JSON_TYPES | CSV_TYPES or not sql_path_enabled():
        items = parse_body(stream, content_type)
        return ingest_records(items, module_instance_id=module_instance_id, now=now)
    upload = _SqlUpload(module_instance_id=module_instance_id, now=clock.now(now))
    blocks = _blocks(stream)
    if kind in JSON_TYPES:
        upload.run(_Shape(JSON_LINE, JSON_TEMPLATE, None), blocks, first_line=1)
        return upload.result
    first = next(blocks, b"")
    header_line, _, rest = first.partition(b"\n")
    if not header_line.strip() and not rest:
        return upload.result
    columns = csv_columns(next(csv.reader([header_line.decode("utf-8", "replace")]), []))
    shape = _csv_shape(columns)
    if shape is None:  # other columns too: the Python parser reads the whole upload
        lines = _lines([header_line + b"\n", rest, *blocks])
        items = parse_csv(lines)
        return ingest_records(items, module_instance_id=module_instance_id, now=upload.now)
    upload.run(shape, _prepend(rest, blocks), first_line=2)
    return upload.result


def _blocks(stream: Readable) -> Iterator[bytes]:
    """The body in blocks of whole lines (each ends with a newline), about ``CHUNK_BYTES``."""
    tail = b""
    while True:
        chunk = stream.read(parsing.CHUNK_BYTES)  # read at call time: tests make it small
        if not chunk:
            break
        cut = chunk.rfind(b"\n")
        if cut < 0:
            tail += chunk
            continue
        yield tail + chunk[: cut + 1]
        tail = chunk[cut + 1 :]
    if tail:
        yield tail + b"\n"


def _prepend(block: bytes, blocks: Iterator[bytes]) -> Iterator[bytes]:
    if block:
        yield block
    yield from blocks


def _lines(blocks: Any) -> Iterator[bytes]:
    for block in blocks:
        lines = block.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        yield from lines


class _SqlUpload:
    def __init__(self, *, module_instance_id: int | None, now: datetime) -> None:
        self.module_instance_id = module_instance_id
        self.now = now
        self.earliest = late_window_start(now)
        self.latest = now + FUTURE_SKEW
        self.size = int(settings.BILLOW["USAGE_INGEST_BATCH"])
        self.result = IngestResult()
        self.shape: _Shape | None = None
        self.tariff_of: dict[int, int] = {}
        self.meters_of: dict[int, list[MeterInfo]] = {}

    def run(self, shape: _Shape, blocks: Iterator[bytes], *, first_line: int) -> None:
        self.shape = shape
        batch = _Batch(first_line)
        for block in blocks:
            self._add(batch, block)
            if batch.lines >= self.size:
                self._flush(batch)
                batch = _Batch(batch.first_line + batch.lines)
        if batch.lines:
            self._flush(batch)

    def _add(self, batch: _Batch, block: bytes) -> None:
        assert self.shape is not None
        count = block.count(b"\n")
        staged, matched = self.shape.pattern.subn(self.shape.template, block)
        batch.original.append(block)
        if matched == count:  # every line documented: the common case
            batch.staged.append(staged)
            batch.lines += count
            return
        out = []
        match = self.shape.pattern.match
        for line in _lines([block]):
            number = batch.first_line + batch.lines
            batch.lines += 1
            found = match(line + b"\n")
            if found is not None:
                out.append(found.expand(self.shape.template) + b"\n")
                continue
            item = self.shape.slow(number, line)
            if isinstance(item, RecordIn) and item.service_id > MAX_SERVICE_ID:
                code = "unknown_service"
                item = RecordError(number, code, RECORD_ERROR_CODES[code], item.service_id)
            if isinstance(item, RecordIn):
                out.append(_staged_line(item))
                continue
            if item is not None:
                batch.refused.append(item)
            out.append(_PLACEHOLDER)
        batch.staged.append(b"".join(out))

    def _flush(self, batch: _Batch) -> None:
        get_storage().ensure_days(days_between(self.earliest.date(), self.latest.date()))
        try:
            with transaction.atomic(durable=True):
                changes = self._store(batch)
        except DataError:  # a line PostgreSQL cannot type: this batch by the Python path
            self._python(batch)
            return
        if changes:
            status.refresh(changes=changes, now=self.now)

    def _store(self, batch: _Batch) -> set[tuple[int, int]]:
        conn = rows.connection_for(UsageRecord)
        with conn.cursor() as cursor:
            cursor.execute(sql.bulk_stage_create_sql(conn))
            cursor.execute(sql.bulk_stage_clear_sql(conn))
            with cursor.cursor.copy(sql.bulk_stage_copy_sql(conn)) as copy:
                for part in batch.staged:
                    copy.write(part)
            cursor.execute(sql.bulk_lock_sql(conn), [sql.LOCK_CLASS, sql.LOCK_BUCKETS])
            cursor.execute(
                sql.bulk_ingest_sql(conn),
                [
                    batch.first_line - 1,
                    self.module_instance_id,
                    self.module_instance_id,
                    str(ServiceStatus.DELETED),
                    self.earliest,
                    self.latest,
                    self.now,
                ],
            )
            answer = cursor.fetchall()
        touched: set[tuple[int, str, date]] = set()
        # Listed as the Python path lists them: malformed records (the value cap is the
        # parser's) in line order, then the records the checks refused, in line order.
        malformed = list(batch.refused)
        checked: list[RecordError] = []
        new = staged = 0
        for kind, service_id, text, day, number in answer:
            if kind == "t":
                touched.add((service_id, text, day))
            elif kind == "e":
                if text == "bad_record":
                    malformed.append(RecordError(number, text, _VALUE_ERROR))
                else:
                    checked.append(RecordError(number, text, RECORD_ERROR_CODES[text], service_id))
            elif kind == "n":
                new = int(number)
            else:
                staged = int(number)
        changes = rollups.apply_touched(
            touched,
            tariff_of=self._tariffs({s for s, _p, _d in touched}),
            meters_of=self.meters_of,
            today=self.now.astimezone(UTC).date(),
            now=self.now,
        )
        result = self.result
        result.received += staged + len(batch.refused)
        result.accepted += new
        result.duplicates += staged - (len(malformed) - len(batch.refused)) - len(checked) - new
        malformed.sort(key=lambda error: error.line)
        checked.sort(key=lambda error: error.line)
        for error in (*malformed, *checked):
            result.refuse(error)
        return changes

    def _tariffs(self, service_ids: set[int]) -> dict[int, int]:
        """The tariffs of ``service_ids`` (existing services: they were just stored for) and
        their meters, kept for the rest of the upload."""
        missing = service_ids - self.tariff_of.keys()
        if missing:
            for service_id, ref in services_for_ingest(missing).items():
                self.tariff_of[service_id] = ref.tariff_id
            tariffs = set(self.tariff_of.values()) - self.meters_of.keys()
            found = list_meters_for_tariffs(tariffs)
            for tariff_id in tariffs:
                self.meters_of[tariff_id] = found.get(tariff_id, [])
        return {s: self.tariff_of[s] for s in service_ids if s in self.tariff_of}

    def _python(self, batch: _Batch) -> None:
        assert self.shape is not None
        shape = self.shape
        lines = _lines(batch.original)
        items: Iterator[RecordIn | RecordError | None] = (
            shape.slow(number, line) for number, line in enumerate(lines, batch.first_line)
        )
        done = ingest_records(
            (item for item in items if item is not None),
            module_instance_id=self.module_instance_id,
            now=self.now,
        )
        result = self.result
        result.received += done.received
        result.accepted += done.accepted
        result.duplicates += done.duplicates
        result.rejected += done.rejected - len(done.errors)  # the unlisted ones
        for error in done.errors:
            result.rejected += 1
            if len(result.errors) < MAX_LISTED_ERRORS:
                result.errors.append(error)
