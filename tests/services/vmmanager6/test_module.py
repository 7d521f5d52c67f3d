"""The vmmanager6 module against the local VMmanager 6 server: accounts, create from OS +
resources or preset, task polling and pending, idempotent replays, tokens, errors, resize
rules, VM actions, reinstall, sync, discover, OS list sync."""

from __future__ import annotations

from typing import Any

import pytest

from billow.catalog.models import ParameterValue
from billow.core.errors import RetryableError
from billow.services import actions, runner, selectors, vm_actions
from billow.services.errors import ModuleConfigError
from billow.services.models import ModuleInstance, OperationStatus, Service, ServiceOperation
from billow.services.modules.base import OutcomeStatus, validate_config
from billow.services.modules.vmmanager6.module import hot_resizable
from billow.services.modules.vmmanager6.os_sync import sync_os_values
from billow.services.modules.vmmanager6.testserver import RunningServer
from billow.services.secrets import decrypt_secrets, get_secrets

from .conftest import vmm_config

pytestmark = pytest.mark.django_db
DEBIAN, UBUNTU = "ISPsystem__Debian 12", "ISPsystem__Ubuntu 24.04"


def run(op: ServiceOperation) -> ServiceOperation:
    runner.execute_operation(operation_id=op.pk)
    op.refresh_from_db()
    return op


def order(client: Any, tariff: Any, os: str = DEBIAN, **addons: int) -> Service:
    values = {"cpu": 1, "ram": 1024, "disk": 10240, **addons}
    return actions.create_service(
        client=client,
        tariff=tariff,
        period="1m",
        currency="USD",
        addon_values=values,
        parameters={"os": os},
    )


def opened(client: Any, tariff: Any, **addons: int) -> Service:
    service = order(client, tariff, **addons)
    op = run(actions.request_operation(service=service, operation="open"))
    assert op.status == OperationStatus.SUCCEEDED, (op.error_code, op.error_message)
    service.refresh_from_db()
    return service


def host(vmm: RunningServer, service: Service) -> dict[str, Any]:
    return vmm.state.hosts[int(service.external_id)]


@pytest.fixture
def synced(vmm_instance: ModuleInstance) -> ModuleInstance:
    sync_os_values(vmm_instance)
    return vmm_instance


def test_open_creates_the_client_account_once_and_a_sized_vm_with_its_os(
    vmm: RunningServer, synced: ModuleInstance, client: Any, vmm_tariff: Any, provider: Any
) -> None:
    first = opened(client, vmm_tariff, cpu=2, ram=2048, disk=20480)
    second = opened(client, vmm_tariff)
    other = Service.objects.get(pk=first.pk).client.__class__.objects.create(
        name="Bob", email="bob@example.com"
    )
    other.providers.add(provider)
    third = opened(other, vmm_tariff)
    accounts = sorted(a["email"] for a in vmm.state.accounts.values())
    assert accounts == [
        f"billow-client-{client.pk}@example.invalid",
        f"billow-client-{other.pk}@example.invalid",
    ]
    h = host(vmm, first)
    assert (h["name"], h["state"], h["cpu_number"], h["ram_mib"]) == (
        f"billow-{first.pk}",
        "active",
        2,
        2048,
    )
    assert h["os"] == {"id": 1, "name": "Debian 12"}
    assert h["account"]["email"] == f"billow-client-{client.pk}@example.invalid"
    assert host(vmm, second)["account"] == h["account"]
    assert host(vmm, third)["account"]["email"] == f"billow-client-{other.pk}@example.invalid"
    result = first.operations.get().result
    assert result["ips"] == [i for i in h["ips"]]
    assert (result["disk_mib"], result["os"], result["state"]) == (20480, "Debian 12", "active")
    # the root password is kept only encrypted and is the VM's
    assert "password" not in result
    assert decrypt_secrets(result["password_encrypted"])["password"] == vmm.state.passwords[h["id"]]


def test_the_admin_password_is_stored_encrypted(vmm_instance: ModuleInstance) -> None:
    assert "secret" not in vmm_instance.secrets_encrypted
    assert get_secrets(vmm_instance) == {"password": "secret"}
    with pytest.raises(ModuleConfigError):
        validate_config("vmmanager6", {"url": "ftp://x", "email": "a@b"})
    with pytest.raises(ModuleConfigError):
        validate_config("vmmanager6", {"url": "https://vm", "email": "a@b", "account_email": "x@y"})


def test_create_from_a_preset(
    vmm: RunningServer, synced: ModuleInstance, client: Any, vmm_tariff: Any
) -> None:
    actions.configure_module_instance(instance=synced, config=vmm_config(vmm.url, preset=7))
    synced.save()
    service = opened(client, vmm_tariff, cpu=4)
    h = host(vmm, service)
    assert (h["cpu_number"], h["ram_mib"]) == (1, 1024)
    create = next(
        body for method, path, body in vmm.state.calls if path == "/vm/v3/host" and method == "POST"
    )
    assert create["preset"] == 7 and "cpu_number" not in create


def test_a_long_task_answers_pending_and_sync_finishes_it(
    vmm: RunningServer, synced: ModuleInstance, client: Any, vmm_tariff: Any
) -> None:
    vmm.state.task_polls = 1000
    vmm_instance = synced
    actions.configure_module_instance(
        instance=vmm_instance, config=vmm_config(vmm.url, task_wait_s=0.05)
    )
    vmm_instance.save()
    service = order(client, vmm_tariff)
    op = run(actions.request_operation(service=service, operation="open"))
    assert op.status == OperationStatus.PENDING
    assert op.result["vm_id"] == next(iter(vmm.state.hosts))
    # sync while the task runs: still pending; once VMmanager finishes: succeeded
    module = runner.build_module(vmm_instance)
    ctx = selectors.build_context(op, "sync")
    assert module.sync(ctx).status == OutcomeStatus.PENDING
    vmm.state.finish_tasks()
    outcome = module.sync(ctx)
    assert (outcome.status, outcome.external_id) == ("succeeded", str(op.result["vm_id"]))
    # a replay of the open meanwhile makes no second VM
    assert module.open(selectors.build_context(op)).external_id == str(op.result["vm_id"])
    assert len(vmm.state.hosts) == 1


def test_an_open_retried_after_a_lost_reply_finds_the_vm(
    vmm: RunningServer, synced: ModuleInstance, client: Any, vmm_tariff: Any
) -> None:
    service = order(client, vmm_tariff)
    op = actions.request_operation(service=service, operation="open")
    # the create reached VMmanager but its answer was lost (the module never recorded it)
    runner.build_module(synced).open(selectors.build_context(op))
    op = run(op)
    service.refresh_from_db()
    assert op.status == OperationStatus.SUCCEEDED
    assert list(vmm.state.hosts) == [int(service.external_id)]
    creates = [c for c in vmm.state.calls if c[:2] == ("POST", "/vm/v3/host")]
    assert len(creates) == 1


def test_an_expired_token_logs_in_again_once(
    vmm: RunningServer, synced: ModuleInstance, client: Any, vmm_tariff: Any
) -> None:
    service = opened(client, vmm_tariff)
    logins = lambda: sum(1 for c in vmm.state.calls if c[1] == "/auth/v4/public/token")  # noqa: E731
    assert logins() == 1  # the token is kept across calls and operations
    vmm.state.expire_tokens()
    op = run(vm_actions.request_vm_action(service=service, action="stop"))
    assert op.status == OperationStatus.SUCCEEDED
    assert logins() == 2


def test_an_idle_instance_is_retried_and_bad_credentials_fail(
    vmm: RunningServer, synced: ModuleInstance, client: Any, vmm_tariff: Any
) -> None:
    service = order(client, vmm_tariff)
    op = actions.request_operation(service=service, operation="open")
    vmm.state.idle = True
    assert runner.execute_operation(operation_id=op.pk) == "retry"
    op.refresh_from_db()
    assert (op.status, op.error_code) == ("queued", "vmmanager_unavailable")
    assert vmm.state.hosts == {}
    module = runner.build_module(synced)
    module.secrets["password"] = "wrong"
    vmm.state.idle = False
    vmm.state.expire_tokens()  # the kept token is refused: the module logs in again
    outcome = module.discover()
    assert (outcome.status, outcome.code, outcome.data["vmm_code"]) == (
        "failed",
        "vmmanager_login_failed",
        3004,
    )


def test_an_unreachable_server_is_a_retryable_transport_error(
    vmm: RunningServer, vmm_instance: ModuleInstance
) -> None:
    vmm.stop()
    with pytest.raises(RetryableError) as err:
        runner.build_module(vmm_instance).discover()
    assert err.value.code == "vmmanager_unreachable"


@pytest.mark.parametrize(
    ("cpu", "ram", "new_cpu", "new_ram", "hot"),
    [
        (1, 1024, 2, 1024, True),
        (1, 1024, 1, 3072, True),
        (2, 2048, 1, 2048, False),  # CPU down
        (1, 2048, 1, 1024, False),  # RAM down
        (1, 1024, 1, 1536, False),  # RAM not in 1024 MiB steps
    ],
)
def test_hot_resize_rules(cpu: int, ram: int, new_cpu: int, new_ram: int, hot: bool) -> None:
    assert hot_resizable(cpu, ram, new_cpu, new_ram) is hot


def set_param(service: Service, **addons: int) -> ServiceOperation:
    op = actions.request_operation(
        service=service, operation="set_param", payload={"addon_values": addons}
    )
    return run(op)


def test_resize_hot_or_with_a_reboot_and_the_disk_only_grows(
    vmm: RunningServer, synced: ModuleInstance, client: Any, vmm_tariff: Any
) -> None:
    service = opened(client, vmm_tariff)
    vm_id = int(service.external_id)
    op = set_param(service, cpu=2, ram=2048)
    assert op.result["applied"] == {"resources": "hot", "disk": "unchanged"}
    assert "host_restart" not in vmm.state.actions_of(vm_id)
    service.refresh_from_db()
    op = set_param(service, ram=2560, disk=20480)
    assert op.result["applied"] == {"resources": "reboot", "disk": "grown"}
    assert vmm.state.actions_of(vm_id)[-3:] == ["host_resource", "host_restart", "disk_resize"]
    h = host(vmm, service)
    assert (h["cpu_number"], h["ram_mib"], op.result["disk_mib"]) == (2, 2560, 20480)
    service.refresh_from_db()
    op = set_param(service, disk=10240)
    assert (op.status, op.error_code) == ("failed", "disk_shrink_unsupported")
    assert host(vmm, service)["state"] == "active"


def test_power_actions_password_note_and_reinstall(
    vmm: RunningServer, synced: ModuleInstance, client: Any, vmm_tariff: Any
) -> None:
    service = opened(client, vmm_tariff)
    vm_id = int(service.external_id)
    for action, state in (("stop", "stopped"), ("start", "active"), ("force_stop", "stopped")):
        op = run(vm_actions.request_vm_action(service=service, action=action))
        assert (op.status, op.result["state"]) == ("succeeded", state)
    op = run(vm_actions.request_vm_action(service=service, action="reboot"))
    assert (op.status, op.error_code) == ("failed", "vm_not_running")
    run(vm_actions.request_vm_action(service=service, action="start"))
    for action in ("reboot", "reset"):
        assert (
            run(vm_actions.request_vm_action(service=service, action=action)).status == "succeeded"
        )
    assert vmm.state.actions_of(vm_id)[1:] == [
        "host_stop",
        "host_start",
        "host_stop_force",
        "host_start",
        "host_restart",
        "host_restart_force",
    ]
    op = run(vm_actions.change_vm_password(service=service, password="N3w-password"))
    assert op.status == "succeeded"
    assert vmm.state.passwords[vm_id] == "N3w-password"
    vm_actions.set_service_note(service=service, note="db primary; ask Ann")
    run(service.operations.get(operation="set_note"))
    assert host(vmm, service)["comment"] == "db primary; ask Ann"
    payload = {"os": UBUNTU}
    op = run(actions.request_operation(service=service, operation="reinstall", payload=payload))
    assert op.status == "succeeded", op.error_code
    assert host(vmm, service)["os"]["name"] == "Ubuntu 24.04"
    new_password = decrypt_secrets(op.result["password_encrypted"])["password"]
    assert vmm.state.passwords[vm_id] == new_password


def test_a_failed_task_fails_the_operation(
    vmm: RunningServer, synced: ModuleInstance, client: Any, vmm_tariff: Any
) -> None:
    service = opened(client, vmm_tariff)
    vmm.state.fail_tasks.add("host_password")
    op = run(vm_actions.change_vm_password(service=service, password="N3w-password"))
    assert (op.status, op.error_code) == ("failed", "vmmanager_task_failed")


def test_sync_answers_from_the_vm_state_and_its_history(
    vmm: RunningServer, synced: ModuleInstance, client: Any, vmm_tariff: Any
) -> None:
    service = opened(client, vmm_tariff)
    module = runner.build_module(synced)
    stop = actions.request_operation(service=service, operation="stop")
    ctx = selectors.build_context(stop, "sync")
    assert module.sync(ctx).code == "not_applied"  # not stopped: run it (again)
    run(stop)
    assert module.sync(ctx).status == "succeeded"
    reboot = actions.request_operation(service=service, operation="start")
    run(reboot)
    reboot = actions.request_operation(service=service, operation="reboot")
    rctx = selectors.build_context(reboot, "sync")
    assert module.sync(rctx).code == "not_applied"
    run(reboot)
    assert module.sync(rctx).status == "succeeded"
    close = actions.request_operation(service=service, operation="close")
    cctx = selectors.build_context(close, "sync")
    assert module.sync(cctx).code == "not_applied"
    run(close)
    assert module.sync(cctx).status == "succeeded"
    assert vmm.state.hosts == {}


def test_discover_lists_every_host_and_names_billow_services(
    vmm: RunningServer, synced: ModuleInstance, client: Any, vmm_tariff: Any
) -> None:
    service = opened(client, vmm_tariff)
    vmm.state.hosts[99] = {**host(vmm, service), "id": 99, "name": "admin-box"}
    objects = runner.build_module(synced).discover().data["objects"]
    assert sorted((o["external_id"], o["name"], o["service_id"]) for o in objects) == [
        (service.external_id, f"billow-{service.pk}", service.pk),
        ("99", "admin-box", None),
    ]


def test_os_list_sync_is_idempotent(
    vmm: RunningServer, vmm_instance: ModuleInstance, vmm_type: Any
) -> None:
    assert sync_os_values(vmm_instance) == {
        "cloud-vps": {"added": 3, "renamed": 0, "reactivated": 0, "deactivated": 0, "unchanged": 0}
    }
    assert sync_os_values(vmm_instance)["cloud-vps"]["unchanged"] == 3
    # VMmanager drops AlmaLinux and renames Ubuntu's template title
    vmm.state.os_list = [vmm.state.os_list[0], {**vmm.state.os_list[1], "name": "Ubuntu 24.04"}]
    vmm.state.os_list[1]["name"] = "Ubuntu 24.04"
    counts = sync_os_values(vmm_instance)["cloud-vps"]
    assert (counts["deactivated"], counts["unchanged"]) == (1, 2)
    values = ParameterValue.objects.filter(parameter__product_type=vmm_type)
    assert sorted(values.values_list("intname", "name", "is_active")) == [
        (DEBIAN, "Debian 12", True),
        (UBUNTU, "Ubuntu 24.04", True),
        ("local__AlmaLinux 9", "AlmaLinux 9", False),
    ]
