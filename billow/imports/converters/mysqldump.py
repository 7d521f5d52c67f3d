"""Read tables out of a ``mysqldump`` file (or a directory of CSV exports) without MySQL.

Only what dumps hold: ``CREATE TABLE `t` (...)`` gives the column order, ``INSERT INTO `t`
[(cols)] VALUES (...),(...);`` the rows (mysqldump writes one statement per line, extended
inserts included). Values come back as text (``None`` for NULL), exactly as MySQL printed them.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

from billow.imports.errors import SourceError

Row = dict[str, str | None]

_CREATE = re.compile(r"^CREATE TABLE `(?P<table>[^`]+)` \(")
_COLUMN = re.compile(r"^\s+`(?P<column>[^`]+)` ")
_INSERT = re.compile(r"^INSERT INTO `(?P<table>[^`]+)`\s*(?:\((?P<cols>[^)]*)\))?\s*VALUES\s*")
_ESCAPES = {"0": "\0", "b": "\b", "n": "\n", "r": "\r", "t": "\t", "Z": "\x1a"}


def read_tables(path: Path, tables: set[str]) -> dict[str, list[Row]]:
    """``tables`` from a dump file, or from ``<table>.csv`` files in a directory (header row =
    column names). A table the source lacks is an empty list."""
    if path.is_dir():
        return {t: _read_csv(path / f"{t}.csv") for t in tables}
    found: dict[str, list[Row]] = {t: [] for t in tables}
    columns: dict[str, list[str]] = {}
    current: str | None = None
    try:
        with path.open(encoding="utf-8", errors="strict") as f:
            for line in f:
                if current is not None:
                    column = _COLUMN.match(line)
                    if column:
                        columns[current].append(column["column"])
                        continue
                    if line.startswith(")"):
                        current = None
                    continue
                create = _CREATE.match(line)
                if create and create["table"] in tables:
                    current = create["table"]
                    columns[current] = []
                    continue
                insert = _INSERT.match(line)
                if insert and insert["table"] in tables:
                    table = insert["table"]
                    names = (
                        [c.strip(" `") for c in insert["cols"].split(",")]
                        if insert["cols"]
                        else columns.get(table, [])
                    )
                    for values in _tuples(line, insert.end()):
                        if len(values) != len(names):
                            raise SourceError(
                                f"{table}: a row has {len(values)} values for {len(names)} columns",
                                code="source_unreadable",
                            )
                        found[table].append(dict(zip(names, values, strict=True)))
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot read {path}: {exc}", code="source_unreadable") from None
    return found


def _read_csv(path: Path) -> list[Row]:
    if not path.exists():
        return []
    try:
        with path.open(encoding="utf-8", newline="") as f:
            return [dict(row) for row in csv.DictReader(f)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise SourceError(f"cannot read {path}: {exc}", code="source_unreadable") from None


def _tuples(line: str, pos: int) -> Iterator[list[str | None]]:
    """The ``(v, v, ...)`` groups of an INSERT's VALUES list, starting at ``pos``."""
    n = len(line)
    while pos < n:
        while pos < n and line[pos] in " ,\r\n":
            pos += 1
        if pos >= n or line[pos] == ";":
            return
        if line[pos] != "(":
            raise SourceError("malformed INSERT statement", code="source_unreadable")
        values, pos = _values(line, pos + 1)
        yield values


def _values(line: str, pos: int) -> tuple[list[str | None], int]:
    values: list[str | None] = []
    n = len(line)
    while pos < n:
        ch = line[pos]
        if ch == "'":
            text, pos = _string(line, pos + 1)
            values.append(text)
        else:
            end = pos
            while end < n and line[end] not in ",)":
                end += 1
            token = line[pos:end].strip()
            values.append(None if token.upper() == "NULL" else token)
            pos = end
        if pos < n and line[pos] == ",":
            pos += 1
            continue
        if pos < n and line[pos] == ")":
            return values, pos + 1
    raise SourceError("unterminated row in INSERT statement", code="source_unreadable")


def _string(line: str, pos: int) -> tuple[str, int]:
    out: list[str] = []
    n = len(line)
    while pos < n:
        ch = line[pos]
        if ch == "\\" and pos + 1 < n:
            nxt = line[pos + 1]
            out.append(_ESCAPES.get(nxt, nxt))
            pos += 2
        elif ch == "'":
            if pos + 1 < n and line[pos + 1] == "'":  # '' inside a string
                out.append("'")
                pos += 2
            else:
                return "".join(out), pos + 1
        else:
            out.append(ch)
            pos += 1
    raise SourceError("unterminated string in INSERT statement", code="source_unreadable")
