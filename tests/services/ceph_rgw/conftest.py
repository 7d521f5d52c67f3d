"""ceph_rgw fixtures: a module config on the session's real RGW (``tests/ceph.py``) with a
uid prefix of its own per test, so tests (and the SQLite and PostgreSQL passes, whose service
ids repeat) never see each other's users."""

from __future__ import annotations

import fcntl
import itertools
import os
from collections.abc import Iterator
from typing import Any

import pytest
from huey.contrib.djhuey import HUEY

from tests.ceph import CephRgw

_prefixes = itertools.count(1)


def unique_prefix() -> str:
    return f"bt{os.getpid()}x{next(_prefixes)}-"


def rgw_config(rgw: CephRgw, **extra: Any) -> dict[str, Any]:
    return {
        "admin_url": rgw.endpoint,
        "website_suffix": rgw.website_dns_name,
        "uid_prefix": unique_prefix(),
        "timeout_s": 10,
        **extra,
    }


def rgw_secrets(rgw: CephRgw) -> dict[str, str]:
    return {"admin_access_key": rgw.admin_access_key, "admin_secret_key": rgw.admin_secret_key}


@pytest.fixture(autouse=True)
def _gateway_turns(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests that stop the gateway run alone (exclusive lock); the others share it, so
    parallel workers (xdist) never see the gateway vanish under them."""
    exclusive = "gateway" in request.node.name
    with open("/tmp/billow-ceph-gateway.lock", "w") as lock:  # noqa: S108 - a fixed rendezvous
        fcntl.flock(lock, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(autouse=True)
def _isolated() -> Iterator[None]:
    """Replaces the services tests' fixed clock with the real one: RGW's usage log and the
    usage pull are dated by the real day (the contract suite fixes its own clock)."""
    previous = HUEY.immediate
    HUEY.immediate = True
    try:
        yield
    finally:
        HUEY.flush()
        HUEY.immediate = previous
