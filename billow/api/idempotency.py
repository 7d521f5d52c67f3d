"""``Idempotency-Key`` for POSTs that move money or create services (Stripe's semantics).

Decorate the view method with :func:`idempotent`. The first request with a key claims it (a
unique row per user and key) and its response is stored; a replay with the same method, path and
body gets the stored response (header ``Idempotent-Replayed: true``); the same key with another
request is ``409 idempotency_key_reused``; a replay while the first is still running is
``409 idempotency_key_in_progress``. Invalid input (``validation_error``) and server errors are
not stored, so the client can fix the request and retry with the same key.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from billow.api import errors
from billow.api.actions import (
    claim_idempotency_key,
    complete_idempotency_key,
    release_idempotency_key,
)
from billow.api.models import ApiToken
from billow.core.errors import BillowError

HEADER = "Idempotency-Key"
KEY_PATTERN = r"^[A-Za-z0-9_.:\-]{1,255}$"
_KEY = re.compile(KEY_PATTERN)
REPLAYED_HEADER = "Idempotent-Replayed"


def fingerprint(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    raw = "\n".join([request.method or "", request.path, hashlib.sha256(body.encode()).hexdigest()])
    return hashlib.sha256(raw.encode()).hexdigest()


def _key(request: Request) -> str:
    key = request.headers.get(HEADER)
    if not key:
        raise errors.IdempotencyKeyRequired(f"This request needs an {HEADER} header")
    if not _KEY.match(key):
        raise errors.IdempotencyKeyInvalid(f"{HEADER}: 1-255 of A-Z a-z 0-9 _ . : -")
    return key


def _replay(record: Any, print_: str) -> Response:
    if record.fingerprint != print_:
        raise errors.IdempotencyKeyReused(
            "This Idempotency-Key was used with another request", key=record.key
        )
    if record.response_status is None:
        raise errors.IdempotencyKeyInProgress("The first request with this key is still running")
    return Response(
        record.response_body, status=record.response_status, headers={REPLAYED_HEADER: "true"}
    )


def _storable(response: Response, exc: Exception | None) -> bool:
    if response.status_code >= 500:
        return False
    return exc is None or isinstance(exc, BillowError)


def idempotent(method: Callable[..., Response]) -> Callable[..., Response]:
    """Wrap a DRF view method (``post``) with the idempotency protocol."""

    @functools.wraps(method)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = _key(request)
        print_ = fingerprint(request)
        token = request.auth if isinstance(request.auth, ApiToken) else None
        record, claimed = claim_idempotency_key(
            user=request.user,
            token=token,
            key=key,
            method=request.method or "",
            path=request.path,
            fingerprint=print_,
        )
        if not claimed:
            return _replay(record, print_)
        caught: Exception | None = None
        try:
            response = method(view, request, *args, **kwargs)
        except Exception as exc:
            caught = exc
            try:
                response = view.handle_exception(exc)
            except Exception:
                release_idempotency_key(record=record)
                raise
        if _storable(response, caught):
            complete_idempotency_key(record=record, status=response.status_code, body=response.data)
        else:
            release_idempotency_key(record=record)
        return response

    wrapper.idempotent = True  # type: ignore[attr-defined]
    return wrapper
