"""A small keyed registry (processing modules, payment gateways, pricing models ...)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from billow.core.errors import ConflictError, NotFoundError, ValidationError

T = TypeVar("T")
_KEY = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


class Registry(Generic[T]):
    """Items registered under unique lowercase keys.

    ``@registry.register("libvirt")`` on a class or function; ``registry.get("libvirt")`` raises
    ``NotFoundError`` (code ``not_found``) for an unknown key; registering a key twice raises
    ``ConflictError`` (code ``already_registered``).
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._items: dict[str, T] = {}
        self._lock = threading.Lock()

    def register(self, key: str) -> Callable[[T], T]:
        def decorator(item: T) -> T:
            return self.add(key, item)

        return decorator

    def add(self, key: str, item: T) -> T:
        if not isinstance(key, str) or not _KEY.match(key):
            raise ValidationError(f"Bad {self.name} key {key!r}", code="invalid_registry_key")
        with self._lock:
            if key in self._items:
                raise ConflictError(
                    f"{self.name} {key!r} is already registered",
                    code="already_registered",
                    registry=self.name,
                    key=key,
                )
            self._items[key] = item
        return item

    def get(self, key: str) -> T:
        try:
            return self._items[key]
        except (KeyError, TypeError):
            raise NotFoundError(
                f"No {self.name} registered as {key!r}",
                code="not_found",
                registry=self.name,
                key=str(key),
            ) from None

    def unregister(self, key: str) -> None:
        """Remove ``key`` (tests, reloadable plugins); unknown keys raise ``not_found``."""
        self.get(key)
        with self._lock:
            del self._items[key]

    def keys(self) -> list[str]:
        return sorted(self._items)

    def items(self) -> list[tuple[str, T]]:
        return sorted(self._items.items(), key=lambda kv: kv[0])

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Registry({self.name!r}, keys={self.keys()})"
