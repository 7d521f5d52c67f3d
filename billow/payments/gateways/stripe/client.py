"""Stripe API request builders (pure) and the one call helper.

Requests are form-encoded with Stripe's bracket notation, carry ``Authorization: Bearer <secret
key>`` and an ``Idempotency-Key`` built from our ids, so a retried call never creates a second
session, charge or refund.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

from billow.payments.gateways.transport import HttpRequest, HttpResponse, Transport

API = "https://api.stripe.com/v1"
API_VERSION = "2024-06-20"


def flatten(params: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """``{"a": {"b": 1}, "l": [{"x": 2}]}`` -> ``[("a[b]", "1"), ("l[0][x]", "2")]``."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, Mapping):
            pairs += flatten(value, name)
        elif isinstance(value, list | tuple):
            for i, item in enumerate(value):
                item_name = f"{name}[{i}]"
                if isinstance(item, Mapping):
                    pairs += flatten(item, item_name)
                else:
                    pairs.append((item_name, _text(item)))
        elif value is not None:
            pairs.append((name, _text(value)))
    return pairs


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class StripeClient:
    def __init__(self, secret_key: str, transport: Transport) -> None:
        self.secret_key = secret_key
        self.transport = transport

    def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        idempotency_key: str = "",
    ) -> HttpRequest:
        headers = {
            "Authorization": f"Bearer {self.secret_key}",
            "Stripe-Version": API_VERSION,
        }
        body = b""
        url = f"{API}{path}"
        if method == "GET" and params:
            url = f"{url}?{urlencode(flatten(params))}"
        elif params is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = urlencode(flatten(params)).encode()
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return HttpRequest(method, url, headers, body)

    def send(self, request: HttpRequest) -> HttpResponse:
        return self.transport(request)

    @staticmethod
    def path_id(value: str) -> str:
        return quote(value, safe="")
