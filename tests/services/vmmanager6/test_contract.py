"""The processing-module contract suite for vmmanager6, against the local VMmanager 6 server
(a fresh one per test)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from billow.services import runner
from billow.services.models import OperationStatus, ServiceOperation
from billow.services.modules.contract import ModuleContract
from billow.services.modules.vmmanager6.testserver import RunningServer

from .conftest import vmm_config, vmm_secrets


class TestVmManager6Contract(ModuleContract):
    module_key = "vmmanager6"

    @pytest.fixture(autouse=True)
    def _server(self, vmm: RunningServer) -> Iterator[None]:
        self.server = vmm
        yield

    def module_config(self) -> dict[str, Any]:
        return vmm_config(self.server.url)

    def module_secrets(self) -> dict[str, str] | None:
        return vmm_secrets()

    def settle(self, operation: ServiceOperation) -> None:
        """VMmanager finishes its tasks; the janitor's sync then completes the operation."""
        self.server.state.finish_tasks()
        ServiceOperation.objects.filter(pk=operation.pk).update(next_attempt_at=None)
        operation.refresh_from_db()
        if operation.status == OperationStatus.PENDING:
            ServiceOperation.objects.filter(pk=operation.pk).update(
                next_attempt_at=operation.started_at
            )
            runner.resolve_operation(operation_id=operation.pk)
