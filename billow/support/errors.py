"""Refusals of the support center; each has a stable code and writes nothing."""

from __future__ import annotations

from billow.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError


class TicketNotFound(NotFoundError):
    """No such ticket, or not one the caller may see (another client's: the same answer)."""

    code = "ticket_not_found"


class SupportValidationError(ValidationError):
    code = "support_invalid"


class TicketClosed(ConflictError):
    code = "ticket_closed"


class TicketStateError(ConflictError):
    code = "invalid_ticket_state"


class NotInDepartment(PermissionDeniedError):
    code = "not_in_department"


class AttachmentRefused(ValidationError):
    """Too big, a type not allowed, or the virus scanner said no (``reason`` says which)."""

    code = "attachment_refused"


class MailRejected(ValidationError):
    """An inbound email that creates nothing: an auto-reply, a bounce, a loop, a bad token."""

    code = "mail_rejected"
