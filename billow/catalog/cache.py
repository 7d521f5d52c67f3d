"""Process-local caches of catalog reads for the hot paths (quote, checkout, service creation).

Each entry is stored with the catalog token (``CatalogVersion``) read just before the data; a
lookup reads the current token (one single-row query) and refetches when it differs. Every
catalog write replaces the token in its own transaction: ``post_save`` / ``post_delete`` /
``m2m_changed`` of every catalog model (wired in ``CatalogConfig.ready``), and explicitly by code
that writes with ``QuerySet.update`` or ``bulk_create`` alone (call :func:`bump`).

So a cached value is never older than the last committed catalog write a request can see, and the
admin, the API and actions need not know the cache exists.

With ``CACHE_URL=redis://...`` the token outside transactions is a version counter in that Redis
(``INCR`` after each catalog write commits), shared by every process on every node: a write is
seen by all of them at once instead of up to ``TOKEN_TTL`` later, for one Redis ``GET`` per
lookup. Inside a transaction the database token is read (a write of this transaction, not yet
committed, must not be cached under a token other processes trust).
"""

from __future__ import annotations

import functools
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.db import transaction

from billow.accounts.models import Provider
from billow.core.shared_cache import KEY_PREFIX, redis_client

from .models import CatalogVersion, Tariff
from .pricing import TariffInfo

T = TypeVar("T")
_MAX = 4096
_lock = threading.Lock()
_entries: OrderedDict[tuple[Any, ...], tuple[str, Any]] = OrderedDict()


#: How long a process trusts the token it read last: a catalog write made by *another* process
#: is seen at most this late (this process's own writes clear it at once). Quotes are shown and
#: then ordered seconds apart anyway; the checkout still re-prices and re-checks visibility.
TOKEN_TTL = 1.0
_token: tuple[float, str] | None = None


#: The shared catalog version (``CACHE_URL`` on Redis).
REDIS_VERSION_KEY = f"{KEY_PREFIX}catalog:version"


def current_token() -> str:
    global _token
    client = redis_client()
    if client is not None and not transaction.get_connection().in_atomic_block:
        return f"v{int(client.get(REDIS_VERSION_KEY) or 0)}"
    remembered = _token
    if remembered is not None and time.monotonic() - remembered[0] < TOKEN_TTL:
        return remembered[1]
    token = CatalogVersion.objects.filter(pk=1).values_list("token", flat=True).first()
    if token is None:
        return bump()
    if not transaction.get_connection().in_atomic_block:
        # Only a committed token is remembered: inside a transaction that itself wrote the
        # catalog (and may still roll back) the token read is not one to trust later.
        _token = (time.monotonic(), token)
    return token


def bump() -> str:
    """Replace the catalog token (inside the caller's transaction, if any)."""
    global _token
    token = uuid.uuid4().hex
    if not CatalogVersion.objects.filter(pk=1).update(token=token):
        CatalogVersion.objects.update_or_create(pk=1, defaults={"token": token})
    _token = None
    transaction.on_commit(_forget, robust=True)  # a rollback must not leave the token trusted
    return token


def _forget() -> None:
    global _token
    _token = None
    client = redis_client()
    if client is not None:
        client.incr(REDIS_VERSION_KEY)  # a counter: late increments never bring back a version


def cached(key: tuple[Any, ...], load: Callable[[], T], token: str | None = None) -> T:
    """``load()`` once per catalog token for ``key``."""
    token = token or current_token()
    with _lock:
        hit = _entries.get(key)
        if hit is not None and hit[0] == token:
            _entries.move_to_end(key)
            return hit[1]
    value = load()
    with _lock:
        _entries[key] = (token, value)
        _entries.move_to_end(key)
        while len(_entries) > _MAX:
            _entries.popitem(last=False)
    return value


def clear() -> None:
    global _token
    with _lock:
        _entries.clear()
    _token = None


def tariff_info(tariff_id: int, currency: str, token: str | None = None) -> TariffInfo:
    """``selectors.get_tariff_info`` through the cache (``tariff_not_found`` is not cached)."""
    from .selectors import get_tariff_info

    key = ("tariff_info", tariff_id, currency)
    return cached(key, lambda: get_tariff_info(tariff_id, currency), token)


def orderable_tariff_ids(
    provider_id: int, group_ids: Iterable[int], token: str | None = None
) -> frozenset[int]:
    """Ids of ``selectors.list_orderable_tariffs`` through the cache."""
    from .selectors import list_orderable_tariffs

    groups = tuple(sorted(set(group_ids)))
    return cached(
        ("orderable", provider_id, groups),
        lambda: frozenset(
            list_orderable_tariffs(provider_id=provider_id, group_ids=groups).values_list(
                "pk", flat=True
            )
        ),
        token,
    )


def tariffs(ids: Iterable[int], token: str | None = None) -> dict[int, Tariff]:
    """Tariff rows (with ``provider``) by id; missing ids are left out.

    The rows are shared by every caller in the process until the token changes: read them,
    never change them."""
    token = token or current_token()
    out: dict[int, Tariff] = {}
    for pk in set(ids):
        row = cached(("tariff", pk), functools.partial(_tariff_row, pk), token)
        if row is not None:
            out[pk] = row
    return out


def _tariff_row(pk: int) -> Tariff | None:
    return Tariff.objects.select_related("provider").filter(pk=pk).first()


def provider(pk: int, token: str | None = None) -> Provider | None:
    """The ``Provider`` row (shared, read-only) or None."""
    return cached(("provider", pk), lambda: Provider.objects.filter(pk=pk).first(), token)
