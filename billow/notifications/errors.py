"""Refusals of the notifications app (stable codes)."""

from __future__ import annotations

from billow.core.errors import NotFoundError, ValidationError


class UnknownEvent(ValidationError):
    code = "unknown_event"


class NotificationNotFound(NotFoundError):
    """Also raised for another client's notification: a client never learns it exists."""

    code = "not_found"


class EmailNotFound(NotFoundError):
    code = "not_found"


class TemplateInvalid(ValidationError):
    """A message template that does not compile or render (the message says where)."""

    code = "template_invalid"
