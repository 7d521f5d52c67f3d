"""The mapping file: how the source's products and servers become Billow tariffs and modules.

JSON (docs/migration.md)::

    {
      "provider": "main",                                  # the Billow provider's code
      "tariffs": {"12": {"tariff": 3, "period": "1m"},     # source product id -> tariff id
                  "13": {"tariff": "VPS S"}},              #   or unique name; period optional
      "servers": {"4": "kvm-node-1"}                       # source server -> module instance
    }

A service's period is the bundle row's when given, else the mapping's for its product, else
``1m``. A service on a server the mapping does not name keeps its external id without a
module instance (staff attach it later).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from billow.accounts.models import Provider
from billow.catalog.models import Tariff
from billow.core.periods import PERIOD_CHOICES
from billow.imports.errors import MappingError
from billow.services.models import ModuleInstance

PERIODS = frozenset(code for code, _label in PERIOD_CHOICES)


@dataclass(frozen=True, slots=True)
class TariffTarget:
    tariff: Tariff
    period: str  # "" when the mapping leaves it to the bundle


@dataclass(frozen=True, slots=True)
class Mapping:
    provider: Provider
    tariffs: dict[str, TariffTarget]
    servers: dict[str, int]  # source server id -> module instance id


def read_mapping(path: str | Path) -> Mapping:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MappingError(f"cannot read {path}: {exc}", code="mapping_unreadable") from None
    return resolve_mapping(data)


def resolve_mapping(data: Any) -> Mapping:
    """The mapping with every name looked up (``MappingError`` names the first bad entry)."""
    if not isinstance(data, dict):
        raise MappingError("the mapping is not a JSON object", code="mapping_unreadable")
    provider = Provider.objects.filter(code=str(data.get("provider", ""))).first()
    if provider is None:
        raise MappingError(
            f"no provider with code {data.get('provider')!r}", code="mapping_provider_unknown"
        )
    tariffs = {
        str(source_id): _tariff(provider, str(source_id), target)
        for source_id, target in dict(data.get("tariffs") or {}).items()
    }
    servers = {}
    for source_id, name in dict(data.get("servers") or {}).items():
        instance = ModuleInstance.objects.filter(name=str(name)).first()
        if instance is None:
            raise MappingError(
                f"server {source_id}: no processing module named {name!r}",
                code="mapping_module_unknown",
                server=str(source_id),
            )
        servers[str(source_id)] = instance.pk
    return Mapping(provider=provider, tariffs=tariffs, servers=servers)


def _tariff(provider: Provider, source_id: str, target: Any) -> TariffTarget:
    if not isinstance(target, dict):
        target = {"tariff": target}
    ref, period = target.get("tariff"), str(target.get("period") or "")
    mine = Tariff.objects.filter(provider=provider)
    found = (
        list(mine.filter(pk=ref))
        if isinstance(ref, int) and not isinstance(ref, bool)
        else list(mine.filter(name=str(ref))[:2])
    )
    if len(found) != 1:
        raise MappingError(
            f"product {source_id}: no single tariff {ref!r} of provider {provider.code}",
            code="mapping_tariff_unknown",
            product=source_id,
        )
    if period and period not in PERIODS:
        raise MappingError(
            f"product {source_id}: unknown period {period!r}",
            code="mapping_period_unknown",
            product=source_id,
        )
    return TariffTarget(found[0], period)
