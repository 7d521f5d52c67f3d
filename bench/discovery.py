#!/usr/bin/env python
"""Discovery of 1,000 libvirt domains on the test driver (target: under 5 s).

    .venv/bin/python bench/discovery.py [--domains 1000]

Generates a ``test:///`` node with N domains: 50 % linked to services by Billow metadata,
40 % made by hand, 10 % flagged system; plus 5 % of N services whose VM is missing. Seeds the
services in a throwaway SQLite database, then times ``discovery.run_discovery`` (connect,
list every domain with its metadata, compare with the services) and checks the counts.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
NS = "https://billow.dev/xmlns/libvirt/1.0"


def node_xml(n: int, first_service: int) -> str:
    parts, linked = [], 0
    for i in range(n):
        kind = i % 10
        if kind < 5:
            meta = f"<billow:service xmlns:billow='{NS}' id='{first_service + linked}'/>"
            linked += 1
        elif kind == 9:
            meta = f"<billow:service xmlns:billow='{NS}' system='1'/>"
        else:
            meta = ""
        parts.append(
            f"<domain type='test'><name>vm-{i}</name>"
            f"<uuid>00000000-0000-0000-0000-{i:012d}</uuid>"
            f"{'<metadata>' + meta + '</metadata>' if meta else ''}"
            "<memory unit='MiB'>64</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64'>hvm</type></os></domain>"
        )
    pool = (
        "<pool type='dir'><name>billow-test</name><capacity>0</capacity>"
        "<allocation>0</allocation><available>0</available>"
        "<target><path>/billow-test</path></target></pool>"
    )
    return f"<?xml version='1.0'?><node>{pool}{''.join(parts)}</node>"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--domains", type=int, default=1000)
    n = parser.parse_args().domains
    tmp = Path(tempfile.mkdtemp(prefix="billow-discovery-bench-"))
    os.environ.update(
        DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
        BILLOW_VAR_DIR=str(tmp),
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from billow.services import discovery
    from billow.services.models import Service

    instance, first = seed(n)
    (tmp / "node.xml").write_text(node_xml(n, first))
    from billow.services import actions

    actions.configure_module_instance(
        instance=instance, config={**instance.config, "uri": f"test://{tmp / 'node.xml'}"}
    )
    t0 = time.perf_counter()
    objects = discovery.fetch_remote_objects(instance)
    t1 = time.perf_counter()
    report = discovery.run_discovery(instance=instance, objects=objects)
    t2 = time.perf_counter()
    counts = report.counts()
    expected_missing = Service.objects.filter(module_instance=instance).count() - n // 2
    assert report.linked_count == n // 2, report.linked_count
    assert counts["service_without_vm"] == expected_missing, counts
    print(f"domains {len(objects)}  services {Service.objects.count()}  {counts}")
    print(f"discover (connect + list + metadata): {t1 - t0:.3f} s")
    print(f"compare with services:                {t2 - t1:.3f} s")
    print(f"total:                                {t2 - t0:.3f} s  (target < 5 s)")


def seed(n: int) -> tuple[object, int]:
    """N/2 services linked to domains + N/20 services without a VM, bulk-created."""
    from billow.accounts.models import Client, Provider
    from billow.catalog import actions as catalog
    from billow.services import actions
    from billow.services.models import Service

    catalog.create_currency(code="USD", name="US dollar", symbol="$")
    provider = Provider.objects.create(name="Bench", code="bench")
    client = Client.objects.create(name="Bench", email="bench@example.com")
    client.providers.add(provider)
    pt = catalog.create_product_type(name="VPS", intname="vps")
    tariff = catalog.create_tariff(provider_id=provider.pk, product_type=pt, name="VPS")
    instance = actions.create_module_instance(
        module="libvirt", name="bench", config={"uri": "test:///default"}, product_types=[pt]
    )
    rows = [
        Service(
            client=client,
            provider=provider,
            tariff=tariff,
            period="1m",
            currency="USD",
            billing_mode=tariff.billing_mode,
            status="active",
            module_instance=instance,
        )
        for _ in range(n // 2 + n // 20)
    ]
    created = Service.objects.bulk_create(rows)
    first = min(s.pk for s in Service.objects.all())
    assert len(created) == n // 2 + n // 20
    return instance, first


if __name__ == "__main__":
    main()
    from billow.services.modules.libvirt.client import reset_connections

    reset_connections()
