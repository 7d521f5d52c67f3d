"""Connections to libvirt hosts and the mapping of libvirt errors.

One connection per URI is kept per process and reused (opening ``qemu+ssh://`` costs a
handshake; the ``test:///file.xml`` driver keeps its state only while a connection lives). A
transport failure (daemon stopped, socket reset, RPC timeout) drops the cached connection and
raises ``RetryableError``; the runner retries with backoff and the next attempt reconnects.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from billow.core.errors import BillowError, RetryableError

_lock = threading.RLock()
_connections: dict[str, Any] = {}


def libvirt_api() -> Any:
    """The ``libvirt`` package (optional dependency), with its stderr error printer silenced."""
    try:
        import libvirt
    except ImportError:
        raise BillowError(
            "libvirt-python is not installed (pip install 'billow[libvirt]')",
            code="libvirt_unavailable",
        ) from None
    libvirt.registerErrorHandler(lambda ctx, err: None, None)
    return libvirt


def connection(uri: str) -> Any:
    """The live cached connection to ``uri`` (opened on first use or after a failure)."""
    lv = libvirt_api()
    with _lock:
        conn = _connections.get(uri)
        if conn is not None:
            try:
                if conn.isAlive():
                    return conn
            except lv.libvirtError:
                pass
            _forget(uri)
        try:
            conn = lv.open(uri)
        except lv.libvirtError as exc:
            raise RetryableError(
                f"cannot connect to {uri}: {exc.get_error_message()}", code="libvirt_unreachable"
            ) from None
        _connections[uri] = conn
        return conn


def _forget(uri: str) -> None:
    conn = _connections.pop(uri, None)
    if conn is not None:
        with contextlib.suppress(Exception):  # a dead connection may refuse to close
            conn.close()


def reset_connections() -> None:
    """Close every cached connection (tests: a fresh ``test:///`` state per test)."""
    with _lock:
        for uri in list(_connections):
            _forget(uri)


def is_transport_error(exc: Any, conn: Any = None) -> bool:
    """True for errors of the link to the daemon, not of the request."""
    lv = libvirt_api()
    transport_domains = {lv.VIR_FROM_RPC, lv.VIR_FROM_REMOTE}
    transport_codes = {
        lv.VIR_ERR_NO_CONNECT,
        lv.VIR_ERR_RPC,
        lv.VIR_ERR_OPERATION_TIMEOUT,
        lv.VIR_ERR_INVALID_CONN,
    }
    if exc.get_error_domain() in transport_domains or exc.get_error_code() in transport_codes:
        return True
    if conn is None:
        return False
    try:
        return not conn.isAlive()
    except lv.libvirtError:
        return True


def retryable(uri: str, exc: Any) -> RetryableError:
    """Drop the cached connection to ``uri``; the error the runner retries with backoff."""
    with _lock:
        _forget(uri)
    return RetryableError(f"libvirt {uri}: {exc.get_error_message()}", code="libvirt_unreachable")
