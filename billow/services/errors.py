"""Services refusals. Every one is a ``BillowError`` subclass with a stable ``code``.

- lifecycle: ``invalid_transition``, ``service_deleted``, ``invalid_sub_state``,
  ``operation_in_progress`` (Conflict), ``operation_not_allowed``, ``unknown_operation``,
  ``invalid_suspend_status``, ``no_module_instance``
- ordering: ``tariff_of_other_provider``, ``tariff_not_active``, ``invalid_parameter``,
  ``missing_parameter``, ``invalid_auto_renew_period``, ``order_limit_reached``, plus the
  catalog's pricing codes (``period_not_offered``, ``addon_value_out_of_range``,
  ``addon_step_mismatch``, ``invalid_enum_value``, ``invalid_addon_value``, ``unknown_addon``,
  ``addon_edit_forbidden``, ``unknown_currency``)
- operations: ``idempotency_key_reused`` (Conflict), ``operation_finished`` (Conflict),
  ``operation_not_retryable`` (Conflict)
- tasks: ``task_closed`` (Conflict)
- modules: ``invalid_module_config``, ``unknown_module`` (NotFound), ``secrets_unreadable``
"""

from __future__ import annotations

from billow.core.errors import ConflictError, NotFoundError, ValidationError


class ServiceValidationError(ValidationError):
    """Bad input for a service action (a value, a combination, a status)."""


class InvalidTransitionError(ConflictError):
    """The service's status does not allow the requested move."""

    code = "invalid_transition"


class ServiceConflictError(ConflictError):
    """The request clashes with the current state of a service, operation or task."""


class ModuleConfigError(ValidationError):
    code = "invalid_module_config"


class ServicesNotFoundError(NotFoundError):
    pass
