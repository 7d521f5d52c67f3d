"""billow.core.csvsafe: cells a spreadsheet would run as formulas are neutralised, numbers kept."""

from __future__ import annotations

import csv
import io

import pytest

from billow.core.csvsafe import csv_writer, safe_cell


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-12.50", "-12.50"),  # a negative amount stays a number
        ("+7", "+7"),
        ("Balance adjustment: =1", "Balance adjustment: =1"),
        ("", ""),
        (-5, -5),
        (None, None),
    ],
)
def test_safe_cell(cell: object, written: object) -> None:
    assert safe_cell(cell) == written


def test_the_writer_neutralises_every_cell_of_a_row() -> None:
    out = io.StringIO()
    csv_writer(out).writerow(["=1", "ok", "-3.00", "@x"])
    assert next(csv.reader(io.StringIO(out.getvalue()))) == ["'=1", "ok", "-3.00", "'@x"]
