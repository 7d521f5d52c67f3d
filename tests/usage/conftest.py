"""Usage fixtures: the services' VPS tariff with two statistics addons and their meters.

The clock stands at T0 = 2027-03-01 12:00 UTC (tests/services/conftest.py); the late window is
7 days, so records from 2027-02-22 00:00 UTC on are accepted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.apps import apps

from tests.services.conftest import (  # noqa: F401
    _isolated,
    client,
    dummy,
    provider,
    service,
    tariff,
    vps_type,
)
from tests.usage.meters import storage_meter, traffic  # noqa: F401

TODAY = date(2027, 3, 1)


def jsonl(records: Iterable[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


def usage_state() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every usage table but ids and times of writing: 'nothing changed' checks."""
    out = {}
    for model in apps.get_app_config("usage").get_models():
        if model._meta.model_name in {"meter", "ingesttoken"}:
            continue
        fields = [
            f.attname
            for f in model._meta.concrete_fields
            if f.attname not in {"id", "updated_at", "received_at", "marked_at"}
        ]
        out[model._meta.model_name] = sorted(model.objects.values_list(*fields))
    return out
