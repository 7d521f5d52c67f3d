"""VMmanager 6 fixtures: a local VMmanager 6 server per test (fresh state, free port) and the
module's kept sessions forgotten around each test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from billow.services.modules.vmmanager6 import client as vmm_client
from billow.services.modules.vmmanager6.testserver import RunningServer, VmmState, serve

ADMIN_EMAIL, ADMIN_PASSWORD = "admin@example.com", "secret"


@pytest.fixture
def vmm() -> Iterator[RunningServer]:
    vmm_client.reset_sessions()
    with serve(VmmState(admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD)) as server:
        yield server
    vmm_client.reset_sessions()


def vmm_config(url: str, **extra: Any) -> dict[str, Any]:
    """Small sizes in MiB, tasks polled every 10 ms for up to 2 s."""
    return {
        "url": url,
        "email": ADMIN_EMAIL,
        "ram_unit": "MiB",
        "disk_unit": "MiB",
        "default_ram": 1024,
        "default_disk": 10240,
        "default_os": "ISPsystem__Debian 12",
        "poll_interval_s": 0.01,
        "task_wait_s": 2.0,
        "timeout_s": 5.0,
        **extra,
    }


def vmm_secrets() -> dict[str, str]:
    return {"password": ADMIN_PASSWORD}
