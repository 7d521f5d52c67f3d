"""billow.core.jsonlimits: the bracket scan that runs before any JSON parser."""

from __future__ import annotations

import pytest
from django.http import HttpResponse

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


@pytest.mark.parametrize(
    ("content_type", "checked"),
    [
        ("application/json", True),
        ("application/json; charset=utf-8", True),
        ("application/merge-patch+json", True),
        ("application/json-lines", False),
        ("application/x-ndjson", False),
        ("text/csv", False),
    ],
)
def test_only_single_json_documents_are_read_whole(content_type: str, checked: bool) -> None:
    """Streams of records (the usage ingestion) are read in chunks by their view: the middleware
    must neither read them whole nor refuse them for their size."""
    from django.test import RequestFactory

    from billow.core.jsonlimits import JsonLimitMiddleware

    body = b"[" * 100 + b"]" * 100
    request = RequestFactory().post("/api/v1/anything/", body, content_type=content_type)
    response = JsonLimitMiddleware(lambda r: HttpResponse(b"passed"))(request)

    assert (response.status_code, response.content == b"passed") == (
        (400, False) if checked else (200, True)
    )
