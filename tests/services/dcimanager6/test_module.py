"""dcimanager6 beyond the contract: token expiry, the reserved server, credentials, power,
switch ports, wipe on close, a slow install answered pending, discovery both ways."""

from __future__ import annotations

from typing import Any

import pytest

from billow.services import actions as services
from billow.services import runner
from billow.services.discovery import run_discovery
from billow.services.models import OperationStatus, Service
from billow.services.modules.contract import ContractWorld, ModuleContract
from billow.services.modules.dcimanager6 import reveal_credentials
from billow.services.modules.dcimanager6.testserver import LocalDci
from billow.services.states import ServiceStatus

from .conftest import dci_config


class Dci6World(ModuleContract):
    """Reuses the contract's world (a client, tariff, instance and ordered service)."""

    module_key = "dcimanager6"
    extra: dict[str, Any] = {}

    @pytest.fixture(autouse=True)
    def _panel(self, dci: LocalDci) -> None:
        self.panel = dci

    def module_config(self) -> dict[str, Any]:
        return dci_config(self.panel, **self.extra)

    def module_secrets(self) -> dict[str, str] | None:
        return {"password": "secret"}


class TestDci6Module(Dci6World):
    def test_open_takes_a_free_server_installs_and_records_ip_and_credentials(
        self, world: ContractWorld
    ) -> None:
        op = self.open_service(world)
        server = self.panel.state.servers[1]
        assert (server["owner_email"], server["comment"], server["os"]) == (
            "billow@localhost",
            f"billow:{world.service.pk}",
            "ubuntu-24.04",
        )
        assert world.service.external_id == "1"
        assert (op.result["ip"], op.result["name"], op.result["server_id"]) == (
            "192.0.2.1",
            "node-1",
            1,
        )
        creds = reveal_credentials(op.result["credentials"])
        assert creds["username"] == "root" and len(creds["password"]) == 20
        assert "password" not in str({k: v for k, v in op.result.items() if k != "credentials"})

    def test_the_credentials_are_taken_once(self, world: ContractWorld) -> None:
        op = self.open_service(world)
        token = services.take_open_secret(service=world.service)
        assert token is not None
        assert reveal_credentials(token) == reveal_credentials(op.result["credentials"])
        op.refresh_from_db()
        assert "credentials" not in op.result and op.result["credentials_taken"] is True
        assert services.take_open_secret(service=world.service) is None

    def test_relogin_when_the_token_expired(self, world: ContractWorld) -> None:
        self.open_service(world)
        assert self.panel.state.logins == 1
        self.panel.state.expire_tokens()
        op = self.request(world, "reboot")
        self.run(op)
        assert op.status == OperationStatus.SUCCEEDED
        assert self.panel.state.logins == 2

    def test_the_reserved_server_is_taken(self, world: ContractWorld) -> None:
        Service.objects.filter(pk=world.service.pk).update(parameters={"dci_server_id": 2})
        self.open_service(world)
        assert self.panel.state.servers[2]["comment"] == f"billow:{world.service.pk}"
        assert self.panel.state.servers[1]["owner_email"] is None

    def test_no_free_server_fails_without_taking_any(self, world: ContractWorld) -> None:
        for s in self.panel.state.servers.values():
            s["owner_email"] = "someone@example.com"
        op = self.request(world, "open")
        self.run(op)
        assert (op.status, op.error_code) == ("failed", "no_free_server")

    def test_suspend_resume_power_and_close_wipes_and_frees(self, world: ContractWorld) -> None:
        self.open_service(world)
        server = self.panel.state.servers[1]
        op = self.request(world, "suspend", payload={"target_status": "suspended_client"})
        self.run(op)
        assert (server["power_status"], server["switch_port"]) == ("off", "on")
        self.run(self.request(world, "resume"))
        assert server["power_status"] == "on"
        self.run(self.request(world, "close"))
        world.service.refresh_from_db()
        assert world.service.status == ServiceStatus.DELETED
        assert (server["owner_email"], server["os"], server["power_status"]) == (None, None, "off")
        calls = [p for m, p in self.panel.state.calls if m == "POST"]
        assert calls[-3:] == [
            "/api/dci/v3/server/1/power_off",
            "/api/dci/v3/server/1/disk_wipe",
            "/api/dci/v3/server/1/owner",
        ]

    def test_a_slow_install_is_pending_then_synced(self, world: ContractWorld) -> None:
        self.panel.state.task_polls = 50
        Dci6World.extra = {"install_wait_seconds": 0.0}
        try:
            world.instance.config = dci_config(self.panel, install_wait_seconds=0.0)
            world.instance.save(update_fields=["config"])
            op = self.request(world, "open")
            assert runner.execute_operation(operation_id=op.pk) == "pending"
            op.refresh_from_db()
            assert op.status == OperationStatus.PENDING
            self.panel.state.finish_tasks()
            world.clock.advance(seconds=2)
            runner.sweep_operations()
            op.refresh_from_db()
            assert op.status == OperationStatus.SUCCEEDED
            assert op.result["ip"] == "192.0.2.1"
        finally:
            Dci6World.extra = {}

    def test_install_failure_fails_the_open(self, world: ContractWorld) -> None:
        self.panel.state.fail_next_task = True
        op = self.request(world, "open")
        self.run(op)
        assert (op.status, op.error_code) == ("failed", "os_install_failed")

    def test_discovery_both_ways(self, world: ContractWorld) -> None:
        self.open_service(world)
        # a server given to a customer by hand in DCImanager: an owner and no service
        self.panel.state.servers[3]["owner_email"] = "walk-in@example.com"
        report = run_discovery(instance=world.instance)
        assert [(r.kind, r.external_id) for r in report.drift] == [("vm_without_service", "3")]
        # the service's server deleted in DCImanager: the service shows up
        del self.panel.state.servers[1]
        report = run_discovery(instance=world.instance)
        assert sorted((r.kind, r.external_id, r.service_id) for r in report.drift) == [
            ("service_without_vm", "1", world.service.pk),
            ("vm_without_service", "3", None),
        ]
