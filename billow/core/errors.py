"""The one error hierarchy. Every refusal Billow makes carries a stable snake_case ``code``.

Interfaces (admin, API, CLI) map codes to messages and HTTP statuses; callers match on classes or
codes, never on message text. Apps define their own subclasses in ``<app>/errors.py``.
"""

from __future__ import annotations

from typing import Any


class BillowError(Exception):
    """A business refusal with a stable code. Raising it must leave nothing half-written."""

    code: str = "billow_error"
    http_status: int = 400

    def __init__(self, message: str = "", *, code: str | None = None, **details: Any) -> None:
        if code is not None:
            self.code = code
        self.message = message or self.code.replace("_", " ")
        self.details = details
        super().__init__(self.message)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class ValidationError(BillowError):
    """Input that breaks a rule (bad value, out of range, wrong combination)."""

    code = "validation_error"


class NotFoundError(BillowError):
    code = "not_found"
    http_status = 404


class ConflictError(BillowError):
    """The request clashes with the current state (e.g. a reused idempotency key)."""

    code = "conflict"
    http_status = 409


class PermissionDeniedError(BillowError):
    code = "permission_denied"
    http_status = 403


class RetryableError(BillowError):
    """A transient failure (timeout, connection refused). Only these are retried by jobs."""

    code = "retryable"
    http_status = 503
