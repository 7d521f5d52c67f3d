"""The VM console in a real browser: the owner opens the console of a running VM on the real
libvirtd (a small diskless guest: its VNC screen shows the BIOS) through the websocket proxy
(``billow.services.console_proxy``) and noVNC; the screen is saved to
docs/screenshots/vm-console.png. Another client's console URL is refused (not found).
Needs root + libvirtd (``scripts/libvirt-up.sh``) and Chromium: markers e2e and libvirt."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from billow.services import actions, console, runner
from billow.services.models import Service
from tests.web import conftest as web_conftest
from tests.web.conftest import WebWorld

libvirt = pytest.importorskip("libvirt")
from tests.services.libvirt.conftest import POOL, REAL_URI, real_libvirt_reachable  # noqa: E402

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.libvirt,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not real_libvirt_reachable(), reason="no libvirtd at qemu:///system"),
]
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PREFIX = f"bcon{os.getpid()}-"
web = web_conftest.web


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def proxy(settings: Any) -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "billow.services.console_proxy", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.2)
    settings.BILLOW_CONSOLE_PROXY_URL = f"ws://127.0.0.1:{port}"
    yield settings.BILLOW_CONSOLE_PROXY_URL
    proc.terminate()
    try:
        proc.wait(timeout=60)  # websockify stops its workers first; slow on a busy host
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@pytest.fixture
def running_vm(web: WebWorld) -> Iterator[Service]:
    instance = actions.create_module_instance(
        module="libvirt",
        name="console-host",
        config={
            "uri": REAL_URI,
            "storage_pool": os.environ.get("BILLOW_LIBVIRT_POOL", POOL),
            "name_prefix": PREFIX,
            "domain_type": "qemu",
            "ram_unit": "MiB",
            "disk_unit": "MiB",
            "default_ram": 64,
            "default_disk": 16,
            "max_vcpus": 1,
        },
    )
    service = web.a.service
    Service.objects.filter(pk=service.pk).update(module_instance=instance)
    service.refresh_from_db()
    op = actions.request_operation(service=service, operation="recreate")
    runner.execute_operation(operation_id=op.pk)
    op.refresh_from_db()
    assert op.status == "succeeded", (op.error_code, op.error_message)
    service.refresh_from_db()
    yield service
    conn = libvirt.open(REAL_URI)
    for dom in conn.listAllDomains():
        if dom.name().startswith(PREFIX):
            if dom.isActive():
                dom.destroy()
            dom.undefine()
    pool = conn.storagePoolLookupByName(os.environ.get("BILLOW_LIBVIRT_POOL", POOL))
    pool.refresh(0)
    for name in pool.listVolumes():
        if name.startswith(PREFIX):
            pool.storageVolLookupByName(name).delete(0)
    conn.close()


def test_the_owner_sees_the_vm_screen_and_another_client_is_refused(
    live_server: Any, page: Page, web: WebWorld, proxy: str, running_vm: Service
) -> None:
    base = live_server.url
    session = web.a.http.cookies["sessionid"].value
    page.context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
    page.set_viewport_size({"width": 1100, "height": 800})
    # the service page offers the console; the console page connects through the proxy
    page.goto(f"{base}/services/{running_vm.pk}/")
    expect(page.locator("#vm-console")).to_be_visible()
    page.goto(f"{base}/services/{running_vm.pk}/console/")
    expect(page.locator("#console-status")).to_have_attribute(
        "data-state", "connected", timeout=30_000
    )
    canvas = page.locator("#console-screen canvas")
    expect(canvas).to_be_visible()
    time.sleep(3)  # let the BIOS draw its text
    lit = page.evaluate(
        """() => { const c = document.querySelector('#console-screen canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 0; i < d.length; i += 4) { if (d[i] + d[i+1] + d[i+2] > 200) n++; }
        return n; }"""
    )
    assert lit > 100  # text on the VM's screen
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "vm-console.png"))
    # another client: the console page of this service does not exist for them
    assert web.b.http.get(f"/services/{running_vm.pk}/console/").status_code == 404
    # a forged ticket opens nothing
    assert console.ticket_target("x" + console.issue_ticket(running_vm).token) is None
