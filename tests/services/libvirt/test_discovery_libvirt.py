"""Discovery on libvirt (test driver): a domain made by hand and one deleted by hand show up;
adopt and recreate fix them; the rerun shows zero drift."""

from __future__ import annotations

from typing import Any

import libvirt
import pytest

from billow.accounts.models import Client
from billow.catalog.models import Tariff
from billow.services import actions, discovery, runner
from billow.services.discovery import SERVICE_WITHOUT_VM, SYSTEM, VM_WITHOUT_SERVICE
from billow.services.models import OperationStatus
from billow.services.modules.libvirt import client as lv_client
from billow.services.modules.libvirt.domain_xml import NS, parse_meta
from billow.services.states import ServiceStatus

from .conftest import hand_domain

pytestmark = pytest.mark.django_db
HAND = "aaaaaaaa-0000-0000-0000-000000000042"


def run_all() -> None:
    runner.run_due_operations()


def test_hand_made_and_hand_deleted_domains_are_found_and_fixed(
    node: Any, make_instance: Any, order: Any, client: Client, tiny_tariff: Tariff
) -> None:
    uri = node(hand_domain("made-by-hand", HAND, state=5))
    instance = make_instance(uri)
    keep, lost = order(), order(cpu=2, ram=128)
    for s in (keep, lost):
        actions.request_operation(service=s, operation="open")
    run_all()
    lost.refresh_from_db()
    old_uuid = lost.external_id
    conn = lv_client.connection(uri)
    gone = conn.lookupByUUIDString(old_uuid)
    gone.destroy()
    gone.undefine()  # deleted by hand (its volume stays)
    # when discovery runs
    report = discovery.run_discovery(instance=instance)
    # then both show up
    assert sorted((r.kind, r.external_id, r.service_id) for r in report.rows) == [
        (SERVICE_WITHOUT_VM, old_uuid, lost.pk),
        (VM_WITHOUT_SERVICE, HAND, None),
    ]
    # when staff adopt the hand-made VM and recreate the lost one
    adopted = discovery.adopt_remote_object(
        instance=instance,
        external_id=HAND,
        client=client,
        tariff=tiny_tariff,
        period="1m",
        currency="USD",
        parameters={"os": "debian-12"},
    )
    op = discovery.recreate_service_vm(service=lost)
    run_all()
    op.refresh_from_db()
    assert op.status == OperationStatus.SUCCEEDED, op.error_code
    # then the adopted domain carries the new service's metadata and was not re-provisioned
    hand = conn.lookupByUUIDString(HAND)
    meta = parse_meta(hand.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, NS, 0))
    assert meta is not None and meta.service_id == adopted.pk
    assert hand.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF
    assert adopted.operations.get().operation == "link"
    # and the lost VM is back with its UUID and ordered size
    lost.refresh_from_db()
    back = conn.lookupByName(f"billow-{lost.pk}")
    assert (lost.external_id, back.UUIDString(), lost.status) == (
        old_uuid,
        old_uuid,
        ServiceStatus.ACTIVE,
    )
    assert back.vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_LIVE) == 2
    # and the rerun shows zero drift
    report = discovery.run_discovery(instance=instance)
    assert report.drift == [] and report.linked_count == 3


def test_system_flag_and_mark(node: Any, make_instance: Any) -> None:
    sys_meta = f"<billow:service xmlns:billow='{NS}' system='1'/>"
    uri = node(
        hand_domain("router", HAND, meta=sys_meta)
        + hand_domain("dns", "aaaaaaaa-0000-0000-0000-000000000043")
    )
    instance = make_instance(uri)
    discovery.mark_system(instance=instance, external_id="aaaaaaaa-0000-0000-0000-000000000043")
    report = discovery.run_discovery(instance=instance)
    assert report.counts() == {VM_WITHOUT_SERVICE: 0, SERVICE_WITHOUT_VM: 0, SYSTEM: 2}
