"""Limits on JSON bodies, checked before any parser sees them.

Python's ``json`` parser recurses once per nesting level, so a body of ten thousand ``[`` raises
``RecursionError`` (a 500) in DRF's parser or a gateway's webhook parser. ``check_json_body``
refuses such a body by scanning its brackets (strings skipped) without parsing;
``JsonLimitMiddleware`` applies it to every JSON request and every webhook, answering with the
API's error shape (``{"code", "message", "details"}``) and status 400.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

from billow.core.errors import ValidationError

#: Deeper than any document Billow or a payment gateway sends (YooKassa's deepest is ~5).
MAX_JSON_DEPTH = 64
#: Larger than any API request or gateway event (a webhook is a few kilobytes).
MAX_JSON_BYTES = 1024 * 1024
#: Paths whose bodies are JSON whatever their Content-Type says (gateways vary).
ALWAYS_JSON_PREFIXES = ("/pay/webhook/",)

# A JSON string (escapes included, written unrolled so long strings do not backtrack) or a
# bracket; everything else is skipped by finditer.
_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[{]|[\]}]')


class JsonLimitError(ValidationError):
    """A JSON body too deep (``json_too_deep``) or too large (``json_too_large``)."""

    code = "json_too_deep"


def json_depth(body: bytes, *, stop_at: int = MAX_JSON_DEPTH) -> int:
    """The deepest nesting of ``[`` / ``{`` in ``body`` (brackets inside strings do not count);
    the scan stops once ``stop_at`` is passed."""
    depth = deepest = 0
    for match in _TOKENS.finditer(body):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_at:
                    break
        elif token in (b"]", b"}"):
            depth -= 1
    return deepest


def check_json_body(body: bytes) -> None:
    """Refuse a body larger than ``MAX_JSON_BYTES`` or nested deeper than ``MAX_JSON_DEPTH``."""
    if len(body) > MAX_JSON_BYTES:
        raise JsonLimitError(
            "The JSON body is too large.", code="json_too_large", max_bytes=MAX_JSON_BYTES
        )
    if json_depth(body) > MAX_JSON_DEPTH:
        raise JsonLimitError("The JSON body is nested too deeply.", max_depth=MAX_JSON_DEPTH)


def _is_json(request: HttpRequest) -> bool:
    """A single JSON document: ``application/json`` or a ``+json`` type. Streams of documents
    (JSON lines, NDJSON) are not: the usage ingestion reads them in chunks, a line at a time,
    and must not have its body read whole here."""
    if request.path.startswith(ALWAYS_JSON_PREFIXES):
        return True
    media_type = request.META.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


class JsonLimitMiddleware:
    """Checks the body of every JSON request (and every webhook) before a view parses it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in ("POST", "PUT", "PATCH", "DELETE") and _is_json(request):
            length = request.META.get("CONTENT_LENGTH") or "0"
            if length.isdigit() and int(length) > MAX_JSON_BYTES:
                return _refusal(
                    JsonLimitError(
                        "The JSON body is too large.",
                        code="json_too_large",
                        max_bytes=MAX_JSON_BYTES,
                    )
                )
            try:
                check_json_body(request.body)
            except JsonLimitError as exc:
                return _refusal(exc)
        return self.get_response(request)


def _refusal(exc: JsonLimitError) -> HttpResponse:
    return JsonResponse(exc.as_dict(), status=exc.http_status)
