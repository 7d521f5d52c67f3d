"""Refusals of the inventory; each has a stable code and writes nothing."""

from __future__ import annotations

from billow.core.errors import ConflictError, NotFoundError, ValidationError


class IncompatibleBuild(ValidationError):
    """A configuration the compatibility check refused; ``details["reasons"]`` lists every
    refusal as ``{"code", "message", "component"}``."""

    code = "incompatible_build"


class InventoryValidationError(ValidationError):
    code = "inventory_invalid"


class ComponentNotFound(NotFoundError):
    code = "component_not_found"


class StockConflict(ConflictError):
    """The stock changed under the request (a server already reserved, an item not free)."""

    code = "stock_conflict"


class ImportRefused(ValidationError):
    """A CSV import that writes nothing: a bad header or a bad row (``details`` say where)."""

    code = "inventory_import_refused"
