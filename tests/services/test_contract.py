"""The module contract suite, run for the built-in modules."""

from __future__ import annotations

from typing import Any

from billow.services.models import ServiceOperation, Task, TaskKind
from billow.services.modules.contract import ContractWorld, ModuleContract, complete_pending_task


class TestDummyContract(ModuleContract):
    module_key = "dummy"

    def module_config(self) -> dict[str, Any]:
        return {"latency_ms": 1}


class TestManualContract(ModuleContract):
    module_key = "manual"

    def module_config(self) -> dict[str, Any]:
        return {"instructions": "Use the staging rack."}

    def settle(self, operation: ServiceOperation) -> None:
        complete_pending_task(operation, {"external_id": f"manual-{operation.service_id}"})

    def remote_count(self, world: ContractWorld) -> int:
        return Task.objects.filter(service=world.service, kind=TaskKind.OPERATION).count()
