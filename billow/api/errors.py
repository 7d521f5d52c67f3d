"""API refusals (stable codes; see docs/api.md for the whole list).

- ``invalid_scope``: a scope outside ``scopes.SCOPES``.
- ``scope_not_allowed``: a staff scope for a non-staff user, or a client scope for a user who
  acts for no client.
- ``token_revoked``: the token was revoked already.
- ``idempotency_key_required`` / ``idempotency_key_invalid``: the header is missing or malformed.
- ``idempotency_key_reused``: the key was used with another request (409).
- ``idempotency_key_in_progress``: the first request with this key has not finished (409).
- ``provider_required``: the client has several providers and the request names none.
- ``provider_not_available``: ``provider_id`` is not one of the client's providers.
"""

from __future__ import annotations

from billow.core.errors import ConflictError, ValidationError


class ApiValidationError(ValidationError):
    code = "api_validation_error"


class InvalidScope(ApiValidationError):
    code = "invalid_scope"


class ScopeNotAllowed(ApiValidationError):
    code = "scope_not_allowed"


class TokenRevoked(ConflictError):
    code = "token_revoked"


class IdempotencyKeyRequired(ApiValidationError):
    code = "idempotency_key_required"


class IdempotencyKeyInvalid(ApiValidationError):
    code = "idempotency_key_invalid"


class IdempotencyKeyReused(ConflictError):
    code = "idempotency_key_reused"


class IdempotencyKeyInProgress(ConflictError):
    code = "idempotency_key_in_progress"


class ProviderRequired(ApiValidationError):
    code = "provider_required"


class ProviderNotAvailable(ApiValidationError):
    code = "provider_not_available"
