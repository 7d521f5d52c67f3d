"""Parsing uploads: the fast path for the documented line shape reads what ``json`` reads."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from io import BytesIO

import pytest

from billow.usage import parsing
from billow.usage.errors import UnsupportedBodyError
from billow.usage.parsing import RecordError, RecordIn, parse_json_lines

AT_1 = datetime(2027, 3, 1, 1, 0, tzinfo=UTC)

LINES = [
    (b'{"service":12,"parameter":"rx","ts":"2027-03-01T01:00:00Z","value":1.5}', True),
    (b'{"service":"000012","parameter":"rx","ts":"1803862800","value":"0001.50"}', True),
    (
        b'{"service": 12, "parameter": "rx", "ts": 1803862800, "value": 1.50, "event_id": "e"}\r',
        True,
    ),
    (b'{"service":12,"parameter":"rx","ts":"2027-03-01T04:00:00+03:00","value":1.5}', True),
    (b'{"value":1.5,"service":12,"parameter":"rx","ts":"2027-03-01T01:00:00Z"}', False),
    (b'{"service":12,"parameter":"rx","ts":"2027-03-01T01:00:00.000+00:00","value":15e-1}', False),
]


@pytest.mark.parametrize(("line", "canonical"), LINES)
def test_every_shape_reads_the_same_record(line: bytes, canonical: bool) -> None:
    (record,) = parse_json_lines([line])

    assert isinstance(record, RecordIn)
    assert (record.service_id, record.parameter, record.ts, record.value) == (
        12,
        "rx",
        AT_1,
        Decimal("1.5"),
    )
    assert record.ts.tzinfo is UTC
    assert (parsing.CANONICAL_LINE.match(line) is not None) == canonical
    json.loads(line)  # every example is valid JSON


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b'{"service":12,"parameter":"rx","ts":"2027-03-01T01:00:00","value":1}', "UTC offset"),
        (b'{"service":12","parameter":"rx","ts":"2027-03-01T01:00:00Z","value":1}', "not JSON"),
        (b'{"service":12,"parameter":"r x","ts":"2027-03-01T01:00:00Z","value":1}', "parameter"),
        (b'{"service":12,"parameter":"rx","ts":"2027-03-01T01:00:00Z","value":-1}', "value"),
        (b'{"service":12,"parameter":"rx","ts":"2027-03-01T01:00:00Z","value":1e15}', "value"),
        (b'{"service":true,"parameter":"rx","ts":"2027-03-01T01:00:00Z","value":1}', "service"),
        (b"[1, 2]", "JSON object"),
        (b'{"service":' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deeply"),
    ],
)
def test_malformed_lines_are_record_errors(line: bytes, message: str) -> None:
    (error,) = parse_json_lines([line])

    assert isinstance(error, RecordError) and error.code == "bad_record"
    assert message in error.message


def test_values_keep_six_decimals() -> None:
    line = b'{"service":1,"parameter":"rx","ts":1803862800,"value":"0.1234567"}'
    (record,) = parse_json_lines([line])

    assert isinstance(record, RecordIn) and record.value == Decimal("0.123457")


def test_lines_split_across_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parsing, "CHUNK_BYTES", 7)
    body = b"first line\nsecond\n\nthird without end"

    assert list(parsing.iter_lines(BytesIO(body))) == [
        b"first line",
        b"second",
        b"",
        b"third without end",
    ]


def test_another_media_type_is_refused() -> None:
    with pytest.raises(UnsupportedBodyError):
        parsing.parse_body(BytesIO(b""), "application/json")
