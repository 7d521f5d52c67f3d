"""The libvirt module on the test driver: lifecycle through the runner, idempotency, set_param,
VM actions, stats, discover, connection errors."""

from __future__ import annotations

from typing import Any

import libvirt
import pytest

from billow.core.errors import RetryableError
from billow.services import actions, runner, selectors, vm_actions
from billow.services.errors import ServiceValidationError
from billow.services.models import OperationStatus, Service, ServiceOperation, Task
from billow.services.modules.base import OutcomeStatus, ServiceContext
from billow.services.modules.libvirt import client as lv_client
from billow.services.modules.libvirt.domain_xml import NS, parse_meta
from billow.services.modules.libvirt.module import read_memory_kib
from billow.services.states import ServiceStatus

from .conftest import hand_domain

pytestmark = pytest.mark.django_db


def run(op: ServiceOperation) -> ServiceOperation:
    runner.execute_operation(operation_id=op.pk)
    op.refresh_from_db()
    return op


def opened(make_instance: Any, order: Any, uri: str, **addons: int) -> Service:
    instance = make_instance(uri)
    service = order(**addons)
    assert service.module_instance_id == instance.pk
    op = run(actions.request_operation(service=service, operation="open"))
    assert op.status == OperationStatus.SUCCEEDED, (op.error_code, op.error_message)
    service.refresh_from_db()
    return service


def config_memory_kib(dom: Any) -> int:
    return read_memory_kib(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))


def domain(uri: str, name: str) -> Any:
    return lv_client.connection(uri).lookupByName(name)


def test_open_defines_and_starts_a_sized_domain_with_billow_metadata(
    node: Any, make_instance: Any, order: Any
) -> None:
    uri = node()
    service = opened(make_instance, order, uri, cpu=2, ram=128, disk=32)
    dom = domain(uri, f"billow-{service.pk}")
    assert service.status == ServiceStatus.ACTIVE
    assert service.external_id == dom.UUIDString()
    assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    assert dom.vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_LIVE) == 2
    assert dom.maxMemory() == 128 * 1024
    meta = parse_meta(dom.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, NS, 0))
    op = service.operations.get()
    assert meta is not None
    assert (meta.service_id, meta.instance_id, meta.key) == (
        service.pk,
        service.module_instance_id,
        op.idempotency_key,
    )
    pool = lv_client.connection(uri).storagePoolLookupByName("billow-test")
    vol = pool.storageVolLookupByName(f"billow-{service.pk}.qcow2")
    assert vol.info()[1] == 32 * 1024 * 1024
    assert op.result["vcpus"] == 2 and op.result["ram_mib"] == 128


def test_a_replayed_open_returns_the_same_domain(node: Any, make_instance: Any, order: Any) -> None:
    uri = node()
    service = opened(make_instance, order, uri)
    op = service.operations.get()
    module = runner.build_module(service.module_instance)  # type: ignore[arg-type]
    ctx = selectors.build_context(op)
    again = module.open(ctx)
    assert (again.status, again.external_id) == (OutcomeStatus.SUCCEEDED, service.external_id)
    assert len(lv_client.connection(uri).listAllDomains()) == 1


def test_open_refuses_a_name_owned_by_something_else(
    node: Any, make_instance: Any, order: Any
) -> None:
    instance = make_instance(
        node(hand_domain("billow-PLACEHOLDER", "aaaaaaaa-0000-0000-0000-000000000001"))
    )
    service = order()
    # given a foreign domain already named like the service's VM
    uri = node(hand_domain(f"billow-{service.pk}", "aaaaaaaa-0000-0000-0000-000000000001"))
    actions.configure_module_instance(instance=instance, config={**instance.config, "uri": uri})
    op = run(actions.request_operation(service=service, operation="open"))
    service.refresh_from_db()
    assert (op.status, op.error_code) == ("failed", "vm_name_taken")
    assert service.status == ServiceStatus.FAILED
    assert len(lv_client.connection(uri).listAllDomains()) == 1


def test_suspend_pauses_resume_runs_close_removes_domain_and_volume(
    node: Any, make_instance: Any, order: Any
) -> None:
    uri = node()
    service = opened(make_instance, order, uri)
    dom = domain(uri, f"billow-{service.pk}")
    run(actions.request_operation(service=service, operation="suspend"))
    assert dom.state()[0] == libvirt.VIR_DOMAIN_PAUSED
    run(actions.request_operation(service=service, operation="resume"))
    assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    op = run(actions.request_operation(service=service, operation="close"))
    service.refresh_from_db()
    assert service.status == ServiceStatus.DELETED
    assert op.result["volumes_deleted"] == [f"/billow-test/billow-{service.pk}.qcow2"]
    conn = lv_client.connection(uri)
    assert conn.listAllDomains() == []
    assert conn.storagePoolLookupByName("billow-test").listVolumes() == []


def test_suspend_in_shutdown_mode_powers_off(node: Any, make_instance: Any, order: Any) -> None:
    uri = node()
    instance = make_instance(uri, suspend_mode="shutdown", shutdown_timeout_s=0)
    service = order()
    run(actions.request_operation(service=service, operation="open"))
    run(actions.request_operation(service=service, operation="suspend"))
    service.refresh_from_db()
    assert service.status == ServiceStatus.SUSPENDED_BY_STAFF
    assert domain(uri, f"billow-{service.pk}").state()[0] == libvirt.VIR_DOMAIN_SHUTOFF
    run(actions.request_operation(service=service, operation="resume"))
    assert domain(uri, f"billow-{service.pk}").state()[0] == libvirt.VIR_DOMAIN_RUNNING
    assert instance.pk == service.module_instance_id


def test_set_param_applies_cpu_and_ram_and_reports_how(
    node: Any, make_instance: Any, order: Any
) -> None:
    uri = node()
    service = opened(make_instance, order, uri, cpu=1, ram=64)
    payload = {"addon_values": {"cpu": 3, "ram": 192}}
    op = run(actions.request_operation(service=service, operation="set_param", payload=payload))
    dom = domain(uri, f"billow-{service.pk}")
    assert op.status == OperationStatus.SUCCEEDED, op.error_code
    assert op.result["applied"] == {"vcpus": "live", "ram": "next_boot"}
    assert dom.vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_CONFIG) == 3
    assert dom.vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_LIVE) == 3
    assert config_memory_kib(dom) == 192 * 1024  # next boot
    assert dom.maxMemory() == 64 * 1024  # live: above the running maximum
    service.refresh_from_db()
    assert service.addon_values == {"cpu": 3, "ram": 192, "disk": 16}


def test_disk_grow_is_refused_where_the_driver_cannot_resize(
    node: Any, make_instance: Any, order: Any
) -> None:
    uri = node()
    service = opened(make_instance, order, uri, disk=16)
    op = run(
        actions.request_operation(
            service=service, operation="set_param", payload={"addon_values": {"disk": 32}}
        )
    )
    service.refresh_from_db()
    assert (op.status, op.error_code) == ("failed", "disk_resize_unsupported")
    assert service.addon_values["disk"] == 16
    assert service.status == ServiceStatus.FAILED


@pytest.mark.parametrize(
    ("action", "state"),
    [
        ("force_stop", libvirt.VIR_DOMAIN_SHUTOFF),
        ("reset", libvirt.VIR_DOMAIN_RUNNING),
        ("reboot", libvirt.VIR_DOMAIN_RUNNING),
        ("stop", libvirt.VIR_DOMAIN_SHUTOFF),
    ],
)
def test_power_actions(node: Any, make_instance: Any, order: Any, action: str, state: int) -> None:
    uri = node()
    service = opened(make_instance, order, uri)
    op = run(vm_actions.request_vm_action(service=service, action=action))
    assert op.status == OperationStatus.SUCCEEDED, op.error_code
    assert domain(uri, f"billow-{service.pk}").state()[0] == state
    service.refresh_from_db()
    assert service.status == ServiceStatus.ACTIVE
    assert service.events.filter(type="service.action_requested").count() == 1


def test_start_after_force_stop_runs_again(node: Any, make_instance: Any, order: Any) -> None:
    uri = node()
    service = opened(make_instance, order, uri)
    run(vm_actions.request_vm_action(service=service, action="force_stop"))
    op = run(vm_actions.request_vm_action(service=service, action="start"))
    assert op.result["state"] == "running"


def test_reboot_of_a_stopped_vm_fails_without_a_staff_task(
    node: Any, make_instance: Any, order: Any
) -> None:
    uri = node()
    service = opened(make_instance, order, uri)
    run(vm_actions.request_vm_action(service=service, action="force_stop"))
    op = run(vm_actions.request_vm_action(service=service, action="reboot"))
    service.refresh_from_db()
    assert (op.status, op.error_code) == ("failed", "vm_not_running")
    assert service.status == ServiceStatus.ACTIVE
    assert Task.objects.count() == 0


def test_password_change_without_agent_channel_is_a_clear_error(
    node: Any, make_instance: Any, order: Any
) -> None:
    make_instance(node(), guest_agent=False)
    service = order()
    run(actions.request_operation(service=service, operation="open"))
    op = run(vm_actions.change_vm_password(service=service, password="S3cret-pass"))
    assert (op.status, op.error_code) == ("failed", "guest_agent_not_configured")
    assert "S3cret" not in str(op.payload) and "S3cret" not in str(op.result)
    assert Task.objects.count() == 0


def test_password_change_with_agent_succeeds_on_the_test_driver(
    node: Any, make_instance: Any, order: Any
) -> None:
    service = opened(make_instance, order, node())
    op = run(vm_actions.change_vm_password(service=service, password="S3cret-pass", user="admin"))
    assert (op.status, op.result["user"]) == ("succeeded", "admin")


def test_bad_password_is_refused_and_nothing_is_queued(
    node: Any, make_instance: Any, order: Any
) -> None:
    service = opened(make_instance, order, node())
    with pytest.raises(ServiceValidationError) as err:
        vm_actions.change_vm_password(service=service, password="short")
    assert err.value.code == "invalid_password"
    assert service.operations.count() == 1


def test_note_is_kept_on_the_service_and_in_the_domain_description(
    node: Any, make_instance: Any, order: Any
) -> None:
    uri = node()
    service = opened(make_instance, order, uri)
    vm_actions.set_service_note(service=service, note="  web server, ticket #12 ")
    op = service.operations.get(operation="set_note")
    run(op)
    service.refresh_from_db()
    assert service.note == "web server, ticket #12"
    dom = domain(uri, f"billow-{service.pk}")
    assert dom.metadata(libvirt.VIR_DOMAIN_METADATA_DESCRIPTION, None) == service.note
    assert service.events.filter(type="service.note_changed").count() == 1


def test_note_on_a_service_without_vm_is_only_stored(
    order: Any, make_instance: Any, node: Any
) -> None:
    make_instance(node())
    service = order()
    vm_actions.set_service_note(service=service, note="call first")
    service.refresh_from_db()
    assert (service.note, service.operations.count()) == ("call first", 0)


def test_stat_and_sync_and_discover(node: Any, make_instance: Any, order: Any) -> None:
    uri = node(hand_domain("hand-made", "aaaaaaaa-0000-0000-0000-000000000009"))
    service = opened(make_instance, order, uri)
    module = runner.build_module(service.module_instance)  # type: ignore[arg-type]
    op = service.operations.get()
    ctx = selectors.build_context(op)
    from datetime import date

    stat = module.stat(ctx, date(2027, 3, 1))
    assert stat.status == OutcomeStatus.SUCCEEDED
    assert set(stat.data["values"]) == {
        "cpu_time_ns",
        "net_rx_bytes",
        "net_tx_bytes",
        "disk_read_bytes",
        "disk_write_bytes",
    }
    assert module.sync(ctx).status == OutcomeStatus.SUCCEEDED
    other = ServiceContext(
        service_id=service.pk,
        operation="sync",
        idempotency_key="suspend:x",
        external_id=service.external_id,
    )
    assert module.sync(other).code == "not_applied"
    objects = {o["name"]: o for o in module.discover().data["objects"]}
    assert objects["hand-made"]["service_id"] is None
    assert objects[f"billow-{service.pk}"]["service_id"] == service.pk
    assert objects[f"billow-{service.pk}"]["external_id"] == service.external_id


def test_unreachable_host_is_retryable(make_instance: Any, order: Any) -> None:
    make_instance("qemu+tcp://127.0.0.1:1/system")
    service = order()
    op = actions.request_operation(service=service, operation="open")
    assert runner.execute_operation(operation_id=op.pk) == "retry"
    op.refresh_from_db()
    assert (op.status, op.error_code) == ("queued", "libvirt_unreachable")


def test_transport_errors_are_classified(node: Any) -> None:
    conn = lv_client.connection(node())
    with pytest.raises(libvirt.libvirtError) as missing:
        conn.lookupByName("nope")
    assert lv_client.is_transport_error(missing.value, conn) is False
    conn.close()
    with pytest.raises(libvirt.libvirtError) as closed:
        conn.lookupByName("nope")
    assert lv_client.is_transport_error(closed.value) is True
    assert isinstance(lv_client.retryable("x", closed.value), RetryableError)
