"""The processing-module contract suite for dcimanager6, against the local DCImanager 6."""

from __future__ import annotations

from typing import Any

import pytest

from billow.services.modules.contract import ModuleContract
from billow.services.modules.dcimanager6.testserver import LocalDci

from .conftest import dci_config


class TestDci6Contract(ModuleContract):
    module_key = "dcimanager6"

    @pytest.fixture(autouse=True)
    def _panel(self, dci: LocalDci) -> None:
        self.panel = dci

    def module_config(self) -> dict[str, Any]:
        return dci_config(self.panel)

    def module_secrets(self) -> dict[str, str] | None:
        return {"password": "secret"}
