"""Refusals of the usage app (stable codes; a refusal writes nothing)."""

from __future__ import annotations

from billow.core.errors import ValidationError


class UsageFormatError(ValidationError):
    """The body of a bulk upload is not JSON lines or CSV as documented (docs/usage.md)."""

    code = "usage_bad_format"


class UnsupportedBodyError(ValidationError):
    """A bulk upload in a media type other than JSON lines or CSV."""

    code = "usage_unsupported_media_type"
    http_status = 415


class MeterError(ValidationError):
    """A meter that cannot be set as asked (not a statistics addon, bad parameters ...)."""

    code = "bad_meter"


#: Per-record error codes of a bulk upload (the record is skipped, the rest accepted).
RECORD_ERROR_CODES = {
    "unknown_service": "No such service (or not one of this module instance's services).",
    "service_deleted": "The service is deleted.",
    "too_late": "The record is older than the late-record window.",
    "in_future": "The record's timestamp is in the future.",
    "bad_record": "The record is malformed.",
}
