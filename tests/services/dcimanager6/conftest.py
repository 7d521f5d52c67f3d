"""A local DCImanager 6 per test (127.0.0.1, free port) and the module settings for it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from billow.services.modules.dcimanager6.client import reset_tokens
from billow.services.modules.dcimanager6.testserver import DciState, LocalDci

CFG = "R250 / 1x Xeon E-2488 / 2x 32GB DDR5 / 2x 960GB SSD"


@pytest.fixture
def dci() -> Iterator[LocalDci]:
    reset_tokens()
    with LocalDci(DciState(task_polls=2)) as panel:
        panel.state.add_server(CFG, name="node-1")
        panel.state.add_server(CFG, name="node-2")
        panel.state.add_server("other", name="node-3")
        yield panel
    reset_tokens()


def dci_config(panel: LocalDci, **extra: Any) -> dict[str, Any]:
    return {
        "url": panel.url,
        "email": "admin@example.com",
        "configuration": CFG,
        "location_id": 1,
        "task_poll_seconds": 0.0,
        "install_wait_seconds": 5.0,
        **extra,
    }
