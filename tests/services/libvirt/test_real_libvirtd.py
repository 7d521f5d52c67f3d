"""Integration on a REAL libvirtd + QEMU (``scripts/libvirt-up.sh``): tiny guests (64 MiB RAM,
16 MiB disk, no OS; KVM when usable, else TCG). Skipped when ``qemu:///system`` or the
``billow-test`` pool is not there. Marker: ``libvirt``."""

from __future__ import annotations

import fcntl
import os
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import libvirt
import pytest

from billow.accounts.models import Client
from billow.catalog.models import Tariff
from billow.core import clock
from billow.services import actions, discovery, runner, vm_actions
from billow.services.models import OperationStatus, Service, ServiceOperation, Task, TaskStatus
from billow.services.modules.libvirt import client as lv_client
from billow.services.modules.libvirt.domain_xml import read_devices
from billow.services.modules.libvirt.module import LibvirtModule
from billow.services.states import ServiceStatus

from .conftest import POOL, REAL_URI, real_libvirt_reachable

pytestmark = [
    pytest.mark.libvirt,
    pytest.mark.django_db,
    pytest.mark.skipif(not real_libvirt_reachable(), reason="no libvirtd at qemu:///system"),
]
PREFIX = f"bt{os.getpid()}-"


def virsh(*args: str) -> str:
    out = subprocess.run(
        ["virsh", "-q", "-c", REAL_URI, *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return out.stdout.strip()


def _ours(conn: Any) -> list[Any]:
    return [d for d in conn.listAllDomains() if d.name().startswith(PREFIX)]


@pytest.fixture(autouse=True)
def _one_at_a_time() -> Iterator[None]:
    """The fault tests stop libvirtd: real-libvirt tests of parallel workers (xdist) take
    turns on a file lock."""
    with open("/tmp/billow-libvirt-tests.lock", "w") as lock:  # noqa: S108 - a fixed rendezvous
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture
def real(make_instance: Any) -> Iterator[Any]:
    """A factory of instances on qemu:///system; every domain and volume of this run is
    removed afterwards."""
    yield lambda **extra: make_instance(
        REAL_URI,
        name_prefix=PREFIX,
        storage_pool=os.environ.get("BILLOW_LIBVIRT_POOL", POOL),
        **extra,
    )
    lv_client.reset_connections()
    conn = libvirt.open(REAL_URI)
    for dom in _ours(conn):
        if dom.isActive():
            dom.destroy()
        dom.undefine()
    pool = conn.storagePoolLookupByName(os.environ.get("BILLOW_LIBVIRT_POOL", POOL))
    pool.refresh(0)
    for name in pool.listVolumes():
        if name.startswith(PREFIX):
            pool.storageVolLookupByName(name).delete(0)
    conn.close()


def run(op: ServiceOperation) -> ServiceOperation:
    runner.execute_operation(operation_id=op.pk)
    op.refresh_from_db()
    assert op.status == OperationStatus.SUCCEEDED, (op.operation, op.error_code, op.error_message)
    return op


def dom_of(service: Service) -> Any:
    return lv_client.connection(REAL_URI).lookupByName(f"{PREFIX}{service.pk}")


def state(service: Service) -> int:
    return int(dom_of(service).state()[0])


def test_vps_lifecycle_on_real_qemu(real: Any, order: Any) -> None:
    real()
    # order a VPS: 1 vCPU, 64 MiB, 16 MiB disk; the open runs through the runner (no charge)
    service = order(cpu=1, ram=64, disk=16)
    run(actions.request_operation(service=service, operation="open"))
    service.refresh_from_db()
    dom = dom_of(service)
    info = dom.info()
    assert (service.status, service.external_id) == (ServiceStatus.ACTIVE, dom.UUIDString())
    assert (info[0], info[1], info[3]) == (libvirt.VIR_DOMAIN_RUNNING, 64 * 1024, 1)
    run(actions.request_operation(service=service, operation="suspend"))
    assert state(service) == libvirt.VIR_DOMAIN_PAUSED
    run(actions.request_operation(service=service, operation="resume"))
    assert state(service) == libvirt.VIR_DOMAIN_RUNNING
    # upgrade RAM to 128 MiB: above the running maximum, so it applies at the next boot
    op = run(
        actions.request_operation(
            service=service, operation="set_param", payload={"addon_values": {"ram": 128}}
        )
    )
    assert op.result["applied"]["ram"] == "next_boot"
    run(vm_actions.request_vm_action(service=service, action="force_stop"))
    assert state(service) == libvirt.VIR_DOMAIN_SHUTOFF
    run(vm_actions.request_vm_action(service=service, action="start"))
    assert state(service) == libvirt.VIR_DOMAIN_RUNNING
    assert dom_of(service).info()[1] == 128 * 1024
    run(vm_actions.request_vm_action(service=service, action="reboot"))
    run(vm_actions.request_vm_action(service=service, action="reset"))
    assert state(service) == libvirt.VIR_DOMAIN_RUNNING
    vm_actions.set_service_note(service=service, note="db primary; ask Ann")
    run(service.operations.get(operation="set_note"))
    assert virsh("desc", f"{PREFIX}{service.pk}") == "db primary; ask Ann"
    volume = f"{PREFIX}{service.pk}.qcow2"
    assert volume in virsh("vol-list", POOL)
    run(actions.request_operation(service=service, operation="close"))
    service.refresh_from_db()
    assert service.status == ServiceStatus.DELETED
    assert f"{PREFIX}{service.pk}" not in virsh("list", "--all", "--name").split()
    assert volume not in virsh("vol-list", POOL)


def test_cpu_hot_add_and_disk_grow_live(real: Any, order: Any) -> None:
    real()
    service = order(cpu=1, disk=16)
    run(actions.request_operation(service=service, operation="open"))
    payload = {"addon_values": {"cpu": 2, "disk": 32}}
    op = run(actions.request_operation(service=service, operation="set_param", payload=payload))
    assert op.result["applied"]["disk"] == "live"
    assert op.result["applied"]["vcpus"] in ("live", "next_boot")
    assert dom_of(service).vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_CONFIG) == 2
    path = read_devices(dom_of(service).XMLDesc(0)).disks[0][1]
    vol = lv_client.connection(REAL_URI).storageVolLookupByPath(path)
    assert vol.info()[1] == 32 * 1024 * 1024


@pytest.mark.parametrize(
    ("agent", "code"), [(False, "guest_agent_not_configured"), (True, "guest_agent_unavailable")]
)
def test_password_change_without_a_guest_agent_is_a_clear_error(
    real: Any, order: Any, agent: bool, code: str
) -> None:
    real(guest_agent=agent)
    service = order()
    run(actions.request_operation(service=service, operation="open"))
    op = vm_actions.change_vm_password(service=service, password="N3w-password")
    runner.execute_operation(operation_id=op.pk)
    op.refresh_from_db()
    service.refresh_from_db()
    assert (op.status, op.error_code) == ("failed", code)
    assert service.status == ServiceStatus.ACTIVE
    assert not Task.objects.exists()


def test_discovery_finds_and_fixes_drift(
    real: Any, order: Any, client: Client, tiny_tariff: Tariff
) -> None:
    instance = real()
    keep, lost = order(), order()
    for s in (keep, lost):
        run(actions.request_operation(service=s, operation="open"))
    lost.refresh_from_db()
    conn = lv_client.connection(REAL_URI)
    # a domain created by hand (no Billow metadata), and one deleted by hand
    hand = conn.defineXML(f"""<domain type='qemu'><name>{PREFIX}hand</name>
      <memory unit='MiB'>64</memory><vcpu>1</vcpu>
      <os><type arch='x86_64' machine='pc'>hvm</type></os></domain>""")
    gone = dom_of(lost)
    gone.destroy()
    gone.undefine()

    def drift() -> list[tuple[str, str]]:
        report = discovery.run_discovery(instance=instance)
        mine = {keep.external_id, lost.external_id, hand.UUIDString()}
        return sorted((r.kind, r.external_id) for r in report.drift if r.external_id in mine)

    assert drift() == sorted(
        [("vm_without_service", hand.UUIDString()), ("service_without_vm", lost.external_id)]
    )
    adopted = discovery.adopt_remote_object(
        instance=instance,
        external_id=hand.UUIDString(),
        client=client,
        tariff=tiny_tariff,
        period="1m",
        currency="USD",
        parameters={"os": "debian-12"},
    )
    run(adopted.operations.get(operation="link"))
    run(discovery.recreate_service_vm(service=lost))
    assert dom_of(lost).UUIDString() == lost.external_id
    assert drift() == []


def _libvirtd_pid() -> int:
    with open("/run/libvirtd.pid") as f:
        return int(f.read().strip())


def _alive(pid: int) -> bool:
    """Running and not a zombie (PID 1 here may not reap killed daemons)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _stop_libvirtd() -> None:
    pid = _libvirtd_pid()
    os.kill(pid, 15)
    for _ in range(200):
        if not _alive(pid):
            return
        time.sleep(0.05)
    raise AssertionError("libvirtd did not stop")


def _start_libvirtd() -> None:
    for _ in range(50):  # a dying daemon may still hold the pid file for a moment
        if subprocess.run(["libvirtd", "-d"], timeout=30, capture_output=True).returncode == 0:
            break
        time.sleep(0.2)
    for _ in range(300):
        try:
            libvirt.open(REAL_URI).close()
            return
        except libvirt.libvirtError:
            time.sleep(0.1)
    raise AssertionError("libvirtd did not come back")


@pytest.fixture
def restore_libvirtd() -> Iterator[None]:
    yield
    try:
        libvirt.open(REAL_URI).close()
    except libvirt.libvirtError:
        _start_libvirtd()


def test_libvirtd_stopped_mid_open_is_retried_without_a_second_domain(
    real: Any, order: Any, monkeypatch: Any, restore_libvirtd: None
) -> None:
    real()
    service = order()
    real_define = LibvirtModule._define

    def define_after_crash(self: Any, *args: Any) -> Any:
        _stop_libvirtd()  # the volume exists, the domain not yet
        return real_define(self, *args)

    monkeypatch.setattr(LibvirtModule, "_define", define_after_crash)
    op = actions.request_operation(service=service, operation="open")
    fixed = clock.get_clock()
    assert runner.execute_operation(operation_id=op.pk) == "retry"
    monkeypatch.setattr(LibvirtModule, "_define", real_define)
    fixed.advance(seconds=30)  # type: ignore[attr-defined]
    assert runner.execute_operation(operation_id=op.pk) == "retry"  # still down: backoff
    op.refresh_from_db()
    assert (op.attempts, op.error_code) == (2, "libvirt_unreachable")
    assert op.next_attempt_at == clock.now() + timedelta(seconds=60)
    _start_libvirtd()
    fixed.advance(seconds=60)  # type: ignore[attr-defined]
    runner.run_due_operations()  # the janitor
    op.refresh_from_db()
    service.refresh_from_db()
    assert (op.status, op.attempts, service.status) == ("succeeded", 3, ServiceStatus.ACTIVE)
    assert len(_ours(lv_client.connection(REAL_URI))) == 1
    assert state(service) == libvirt.VIR_DOMAIN_RUNNING


def test_final_failure_opens_a_task_then_restart_and_retry_finish(
    real: Any, order: Any, restore_libvirtd: None
) -> None:
    real()
    service = order()
    op = actions.request_operation(service=service, operation="open")
    ServiceOperation.objects.filter(pk=op.pk).update(max_attempts=2)
    _stop_libvirtd()
    fixed = clock.get_clock()
    assert runner.execute_operation(operation_id=op.pk) == "retry"
    fixed.advance(seconds=30)  # type: ignore[attr-defined]
    assert runner.execute_operation(operation_id=op.pk) == "failed"
    service.refresh_from_db()
    task = Task.objects.get(operation=op)
    assert (service.status, task.status) == (ServiceStatus.FAILED, TaskStatus.OPEN)
    # when libvirtd is back and staff retry, the janitor finishes the job
    _start_libvirtd()
    actions.retry_operation(operation=op)
    runner.run_due_operations()
    op.refresh_from_db()
    service.refresh_from_db()
    task.refresh_from_db()
    assert (op.status, service.status, task.status) == ("succeeded", "active", "done")
    assert len(_ours(lv_client.connection(REAL_URI))) == 1
