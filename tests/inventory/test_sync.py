"""Ready servers from DCImanager 6 (the local panel) and from CSV: what changed, and nothing
the second time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from billow.inventory.errors import ImportRefused
from billow.inventory.models import Location, ReadyServer
from billow.inventory.sync import import_servers_csv, sync_from_dcimanager
from billow.services import actions as service_actions
from billow.services.models import ModuleInstance
from billow.services.modules.dcimanager6.client import reset_tokens
from billow.services.modules.dcimanager6.testserver import DciState, LocalDci

T0 = datetime(2027, 5, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def panel() -> Iterator[LocalDci]:
    reset_tokens()
    with LocalDci(DciState()) as dci:
        dci.state.add_server("cfg-a", name="n1")
        dci.state.add_server("cfg-a", name="n2", owner_email="x@example.com", comment="billow:42")
        dci.state.add_server("cfg-b", name="n3", is_new=True)
        dci.state.add_server("cfg-b", name="elsewhere", location_id=2)
        yield dci


@pytest.fixture
def instance(db: object, panel: LocalDci) -> ModuleInstance:
    return service_actions.create_module_instance(
        module="dcimanager6",
        name="dci",
        config={"url": panel.url, "email": "admin@example.com", "location_id": 1},
        secrets={"password": "secret"},
    )


def test_sync_twice_changes_nothing_the_second_time(
    instance: ModuleInstance, panel: LocalDci
) -> None:
    loc = Location.objects.create(code="ams1", name="Amsterdam", dci_location_id=1)
    first = sync_from_dcimanager(instance=instance, location=loc, now=T0)
    assert (first.created, first.updated, first.gone) == (["n1", "n2", "n3"], [], [])
    assert first.configurations == {"cfg-a": 1, "cfg-b": 1}
    rows = list(
        ReadyServer.objects.values_list(
            "name", "configuration", "status", "service_id", "owner_email"
        )
    )
    assert rows == [
        ("n1", "cfg-a", "free", None, ""),
        ("n2", "cfg-a", "in_use", 42, "x@example.com"),
        ("n3", "cfg-b", "maintenance", None, ""),
    ]
    second = sync_from_dcimanager(instance=instance, location=loc, now=T0)
    assert (second.created, second.updated, second.gone, second.unchanged) == ([], [], [], 3)
    # a server given back and one deleted in DCImanager
    panel.state.servers[2]["owner_email"] = None
    panel.state.servers[2]["comment"] = ""
    del panel.state.servers[1]
    third = sync_from_dcimanager(instance=instance, location=loc, now=T0)
    assert (third.created, third.updated, third.gone) == ([], ["n2"], ["n1"])
    assert ReadyServer.objects.get(name="n2").status == "free"
    assert ReadyServer.objects.get(name="n1").status == "gone"
    fourth = sync_from_dcimanager(instance=instance, location=loc, now=T0)
    assert not fourth.changed


def test_sync_keeps_billows_own_reservation(instance: ModuleInstance, panel: LocalDci) -> None:
    loc = Location.objects.create(code="ams1", name="Amsterdam", dci_location_id=1)
    sync_from_dcimanager(instance=instance, location=loc, now=T0)
    ReadyServer.objects.filter(name="n1").update(status="reserved", service_id=7, reserved_until=T0)
    report = sync_from_dcimanager(instance=instance, location=loc, now=T0)
    assert not report.changed
    assert ReadyServer.objects.filter(name="n1", status="reserved", service_id=7).exists()


CSV = "name,configuration,location,barcode,status\ns1,cfg-a,ams1,B1,\ns2,cfg-b,ams1,B2,in_use\n"


def test_csv_import_reports_and_is_idempotent(db: object) -> None:
    Location.objects.create(code="ams1", name="Amsterdam")
    first = import_servers_csv(CSV, now=T0)
    assert (first.created, first.updated, first.unchanged) == (["s1", "s2"], [], 0)
    assert list(ReadyServer.objects.values_list("name", "status", "barcode")) == [
        ("s1", "free", "B1"),
        ("s2", "in_use", "B2"),
    ]
    assert not import_servers_csv(CSV, now=T0).changed
    changed = import_servers_csv(CSV.replace("B2,in_use", "B2,maintenance"), now=T0)
    assert (changed.created, changed.updated) == ([], ["s2"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "name,configuration\ns1,cfg\n",
            "the header must be name,configuration,location,barcode,status",
        ),
        (CSV + "s3,cfg-a,nowhere,,\n", "line 4: no location 'nowhere'"),
        (CSV + "s3,cfg-a,ams1,,broken\n", "line 4: name, configuration and a status"),
    ],
)
def test_a_bad_csv_writes_nothing(db: object, text: str, message: str) -> None:
    Location.objects.create(code="ams1", name="Amsterdam")
    with pytest.raises(ImportRefused) as exc:
        import_servers_csv(text, now=T0)
    assert exc.value.message == message
    assert ReadyServer.objects.count() == 0
