"""Refusals of the migration import (stable codes; a refused import writes nothing)."""

from __future__ import annotations

from billow.core.errors import ValidationError


class MigrationImportError(ValidationError):
    """Base of the migration import's refusals."""

    code = "import_error"


class BundleError(MigrationImportError):
    """The bundle cannot be read: ``bundle_unreadable``, ``bundle_format_unknown``,
    ``bundle_version_unsupported``, ``bundle_field_missing``, ``bundle_field_invalid``,
    ``bundle_duplicate_source_id``."""

    code = "bundle_invalid"


class MappingError(MigrationImportError):
    """The mapping file cannot be used: ``mapping_unreadable``, ``mapping_provider_unknown``,
    ``mapping_tariff_unknown``, ``mapping_module_unknown``."""

    code = "mapping_invalid"


class ImportRefused(MigrationImportError):
    """Some rows would be refused (``import_refused``; ``details["refused"]`` lists them): the
    real run writes nothing until the bundle or the mapping is fixed."""

    code = "import_refused"


class SourceError(MigrationImportError):
    """A converter cannot read its source export: ``source_unreadable``,
    ``source_table_missing``."""

    code = "source_unreadable"
