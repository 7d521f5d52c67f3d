"""Converters: another system's export -> an import bundle (``billow import --from``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from billow.imports.bundle import Bundle


def _whmcs(path: Path) -> Bundle:
    from billow.imports.converters.whmcs import convert

    return convert(path)


def _billmanager(path: Path) -> Bundle:
    from billow.imports.converters.billmanager import convert

    return convert(path)


CONVERTERS: dict[str, Callable[[Path], Bundle]] = {"whmcs": _whmcs, "billmanager": _billmanager}
