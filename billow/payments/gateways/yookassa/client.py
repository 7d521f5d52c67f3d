"""YooKassa API v3 request builders (pure). JSON bodies, HTTP Basic auth with ``shopId:secret
key``, and an ``Idempotence-Key`` header on every POST built from our ids."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from billow.core.money import Money
from billow.payments.gateways.transport import HttpRequest, HttpResponse, Transport

API = "https://api.yookassa.ru/v3"


def amount_json(money: Money) -> dict[str, str]:
    """``Money(12345, "RUB")`` -> ``{"value": "123.45", "currency": "RUB"}``."""
    return {"value": f"{money.to_decimal():f}", "currency": money.currency}


def amount_minor(value: Mapping[str, Any] | None) -> int | None:
    if not value or "value" not in value or "currency" not in value:
        return None
    return Money.from_decimal(str(value["value"]), str(value["currency"])).amount_minor


class YooKassaClient:
    def __init__(self, shop_id: str, secret_key: str, transport: Transport) -> None:
        token = base64.b64encode(f"{shop_id}:{secret_key}".encode()).decode()
        self.auth = f"Basic {token}"
        self.transport = transport

    def post(self, path: str, body: Mapping[str, Any], idempotence_key: str) -> HttpRequest:
        headers = {
            "Authorization": self.auth,
            "Content-Type": "application/json",
            "Idempotence-Key": idempotence_key,
        }
        data = json.dumps(body, ensure_ascii=False, sort_keys=True).encode()
        return HttpRequest("POST", f"{API}{path}", headers, data)

    def get(self, path: str, object_id: str) -> HttpRequest:
        url = f"{API}{path}/{quote(object_id, safe='')}"
        return HttpRequest("GET", url, {"Authorization": self.auth})

    def send(self, request: HttpRequest) -> HttpResponse:
        return self.transport(request)
