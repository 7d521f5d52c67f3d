"""The real Ceph RADOS Gateway for tests marked ``ceph`` (``scripts/ceph-up.sh``).

``ceph_rgw`` (session scope) gives the gateway's endpoint and admin keys. ``scripts/test.sh``
starts one cluster for the whole run and exports ``BILLOW_CEPH_DIR``; without it the fixture
starts its own cluster once per session (root only, on free ports, stopped at the end), and
tests marked ``ceph`` are skipped when neither is possible. Tests must make their own RGW
users (unique uids): the cluster is shared by the SQLite and the PostgreSQL pass.
"""

from __future__ import annotations

import contextlib
import fcntl
import http.client
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GATEWAY = "client.rgw.gw"


@dataclass(frozen=True)
class CephRgw:
    """A running gateway: ``endpoint`` serves S3, Admin Ops and (by Host header) websites."""

    directory: Path
    endpoint: str
    admin_access_key: str
    admin_secret_key: str
    dns_name: str
    website_dns_name: str

    @property
    def conf(self) -> Path:
        return self.directory / "ceph.conf"

    @property
    def pid_file(self) -> Path:
        return self.directory / "run" / f"{GATEWAY}.pid"

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.endpoint.removeprefix("http://").split(":")
        return host, int(port)

    def _answers(self) -> bool:
        try:
            socket.create_connection(self.address, timeout=0.5).close()
        except OSError:
            return False
        return True

    def stop_gateway(self) -> None:
        """Stop radosgw (by its PID) to simulate the gateway going away mid-operation; returns
        once its port is closed. SIGTERM: a killed gateway leaves its RADOS watches behind and
        the next writes of another gateway wait for the OSD to time them out (30 s)."""
        pid = int(self.pid_file.read_text())
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            if (not Path(f"/proc/{pid}").exists() or _zombie(pid)) and not self._answers():
                return
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)
        raise RuntimeError("radosgw did not stop on SIGTERM")

    def start_gateway(self) -> None:
        """Start radosgw again on the same cluster and wait until it answers."""
        log = (self.directory / "log" / f"{GATEWAY}.stdout").open("ab")
        proc = subprocess.Popen(
            ["radosgw", "-c", str(self.conf), "-n", GATEWAY, "-f"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        self.pid_file.write_text(str(proc.pid))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"radosgw exited with {proc.returncode}")
            if self._serves():
                return
            time.sleep(0.1)
        raise RuntimeError("radosgw did not come back")

    def _serves(self) -> bool:
        """The gateway answers S3 (an anonymous ListBuckets: 200), not just accepts."""
        conn = http.client.HTTPConnection(*self.address, timeout=2)
        try:
            conn.request("GET", "/")
            return conn.getresponse().status == 200
        except OSError:
            return False
        finally:
            conn.close()


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


def read_env(directory: Path) -> CephRgw:
    env = dict(
        line.split("=", 1)
        for line in (directory / "rgw.env").read_text().splitlines()
        if "=" in line
    )
    return CephRgw(
        directory=directory,
        endpoint=env["RGW_ENDPOINT"],
        admin_access_key=env["RGW_ADMIN_ACCESS_KEY"],
        admin_secret_key=env["RGW_ADMIN_SECRET_KEY"],
        dns_name=env["RGW_DNS_NAME"],
        website_dns_name=env["RGW_WEBSITE_DNS_NAME"],
    )


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def _start_own(directory: Path) -> CephRgw:
    """Start a cluster on the first free port set (another cluster may hold the defaults)."""
    for offset in range(0, 50, 10):
        ports = {
            "CEPH_MON_PORT": 16789 + offset,
            "CEPH_MON_V2_PORT": 13300 + offset,
            "RGW_PORT": 17480 + offset,
        }
        if all(_port_free(p) for p in ports.values()):
            env = {**os.environ, **{k: str(v) for k, v in ports.items()}}
            subprocess.run(
                [str(ROOT / "scripts" / "ceph-up.sh"), str(directory)],
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
                timeout=600,
            )
            return read_env(directory)
    raise RuntimeError("no free ports for a Ceph cluster")


@pytest.fixture(scope="session")
def ceph_rgw() -> Iterator[CephRgw]:
    given = os.environ.get("BILLOW_CEPH_DIR")
    if given:
        yield read_env(Path(given))
        return
    if os.geteuid() != 0:
        pytest.skip("no Ceph RGW: run as root or start scripts/ceph-up.sh (BILLOW_CEPH_DIR)")
    directory = Path(f"/tmp/billow-ceph-{os.getpid()}")  # noqa: S108 - a per-process dir
    with open("/tmp/billow-ceph-start.lock", "w") as lock:  # noqa: S108 - a fixed rendezvous
        fcntl.flock(lock, fcntl.LOCK_EX)
        rgw = _start_own(directory)
    try:
        yield rgw
    finally:
        subprocess.run(
            [str(ROOT / "scripts" / "ceph-down.sh"), str(directory)],
            check=False,
            stdout=subprocess.DEVNULL,
            timeout=120,
        )
