"""Recorded gateway JSON (shapes from the Stripe and YooKassa API references, our ids)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


def load(name: str, **subs: object) -> dict[str, Any]:
    """The recorded JSON ``name`` with ``__KEY__`` placeholders replaced by ``subs``."""
    text = (HERE / f"{name}.json").read_text()
    for key, value in subs.items():
        text = text.replace(f"__{key.upper()}__", str(value))
    data: dict[str, Any] = json.loads(text)
    return data


def body(name: str, **subs: object) -> bytes:
    return json.dumps(load(name, **subs)).encode()
