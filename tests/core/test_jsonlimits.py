"""billow.core.jsonlimits: the bracket scan that runs before any JSON parser."""

from __future__ import annotations

import pytest

from billow.core.jsonlimits import json_depth


@pytest.mark.parametrize(
    ("body", "depth"),
    [
        (b"{}", 1),
        (b'{"a": [1, {"b": []}]}', 4),
        (b'{"a": "[[[[{{{{", "b": "\\"[["}', 1),  # brackets and escaped quotes in strings
        (b"12", 0),
    ],
)
def test_json_depth_counts_brackets_outside_strings(body: bytes, depth: int) -> None:
    assert json_depth(body) == depth
