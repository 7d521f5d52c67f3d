"""The processing-module contract suite for ceph_rgw, on the real RGW (marker ``ceph``)."""

from __future__ import annotations

from typing import Any

import pytest

from billow.services.modules.contract import ModuleContract
from tests.ceph import CephRgw

from .conftest import rgw_config, rgw_secrets

pytestmark = pytest.mark.ceph


class TestCephRgwContract(ModuleContract):
    module_key = "ceph_rgw"

    @pytest.fixture(autouse=True)
    def _gateway(self, ceph_rgw: CephRgw) -> None:
        self.config = rgw_config(ceph_rgw)
        self.secrets = rgw_secrets(ceph_rgw)

    def module_config(self) -> dict[str, Any]:
        return self.config

    def module_secrets(self) -> dict[str, str] | None:
        return self.secrets
