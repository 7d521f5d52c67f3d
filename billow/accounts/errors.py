"""Accounts refusals. Every one is a ``BillowError`` subclass with a stable ``code``.

Codes raised by accounts actions (callers match on these, never on the message):

- providers: ``provider_invalid`` (details: field -> messages), ``provider_exists``,
  ``unknown_currency``
- clients: ``client_invalid``, ``email_taken``, ``unknown_language``, ``unknown_country``,
  ``provider_required``, ``unknown_client_status``
- client users: ``unknown_permission``, ``owner_immutable``, ``user_not_in_client``,
  ``client_user_not_manageable`` (403: the owner, or oneself, changed by a client user)
- groups: ``unknown_membership_source``
- payers: ``payer_invalid`` (details ``fields``: field -> messages),
  ``unknown_verification_state``, ``unknown_verification_method``,
  ``verification_method_required``
"""

from __future__ import annotations

from billow.core.errors import ConflictError, PermissionDeniedError, ValidationError


class AccountsValidationError(ValidationError):
    """Bad accounts input; ``code`` says which rule was broken."""


class ProviderInvalid(AccountsValidationError):
    code = "provider_invalid"


class ProviderExists(ConflictError):
    code = "provider_exists"


class ClientInvalid(AccountsValidationError):
    code = "client_invalid"


class EmailTaken(ConflictError):
    code = "email_taken"


class UnknownLanguage(AccountsValidationError):
    code = "unknown_language"


class UnknownCountry(AccountsValidationError):
    code = "unknown_country"


class UnknownCurrency(AccountsValidationError):
    code = "unknown_currency"


class ProviderRequired(AccountsValidationError):
    code = "provider_required"


class UnknownClientStatus(AccountsValidationError):
    code = "unknown_client_status"


class UnknownPermission(AccountsValidationError):
    code = "unknown_permission"


class OwnerImmutable(ConflictError):
    code = "owner_immutable"


class ClientUserNotManageable(PermissionDeniedError):
    """A client user may not change the owner, nor their own permissions or membership."""

    code = "client_user_not_manageable"


class PermissionNotGrantable(PermissionDeniedError):
    """A client user may grant only permissions they hold themselves (the owner holds all)."""

    code = "permission_not_grantable"


class UserNotInClient(AccountsValidationError):
    code = "user_not_in_client"


class UnknownMembershipSource(AccountsValidationError):
    code = "unknown_membership_source"


class PayerInvalid(AccountsValidationError):
    code = "payer_invalid"


class UnknownVerificationState(AccountsValidationError):
    code = "unknown_verification_state"


class UnknownVerificationMethod(AccountsValidationError):
    code = "unknown_verification_method"


class VerificationMethodRequired(AccountsValidationError):
    code = "verification_method_required"


class ImpersonationRefused(PermissionDeniedError):
    """Staff may not log in as this client (no staff actor, or the client has no enabled
    owner to act as)."""

    code = "impersonation_refused"
