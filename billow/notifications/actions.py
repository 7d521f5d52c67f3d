"""Notification actions. (Being filled in; the functions below are the agreed contract.)"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def notify_client(
    *,
    event: str,
    client_id: int,
    provider_id: int | None = None,
    context: Mapping[str, Any] | None = None,
    dedup_key: str = "",
) -> None:
    """Queue a notification of ``event`` for a client (email + in-panel), sent after commit."""
    raise NotImplementedError


def notify_clients_bulk(
    *, event: str, items: Sequence[tuple[int, int | None, Mapping[str, Any], str]]
) -> None:
    """Many notifications of one event: items are (client_id, provider_id, context, dedup_key)."""
    raise NotImplementedError


def notify_staff(*, event: str, context: Mapping[str, Any] | None = None) -> None:
    """Queue a notification for staff (e.g. operation failed)."""
    raise NotImplementedError
