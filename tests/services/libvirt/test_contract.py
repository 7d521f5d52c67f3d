"""The processing-module contract suite for libvirt, on the test driver (a fresh node per test)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from billow.services.modules.contract import ModuleContract

from .conftest import node_xml, small_config


class TestLibvirtContract(ModuleContract):
    module_key = "libvirt"

    @pytest.fixture(autouse=True)
    def _node(self, tmp_path: Path) -> None:
        path = tmp_path / "node.xml"
        path.write_text(node_xml())
        self.uri = f"test://{path}"

    def module_config(self) -> dict[str, Any]:
        return small_config(self.uri)
