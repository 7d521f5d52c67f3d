"""One error shape for every API refusal: ``{"code", "message", "details"}``.

``BillowError`` subclasses keep their stable ``code`` and ``http_status``; DRF's own exceptions
get the codes below; anything else is left to Django (a 500 without internals).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from billow.core.errors import BillowError

DRF_CODES: list[tuple[type[exceptions.APIException], str]] = [
    (exceptions.ValidationError, "validation_error"),
    (exceptions.NotAuthenticated, "not_authenticated"),
    (exceptions.AuthenticationFailed, "not_authenticated"),
    (exceptions.PermissionDenied, "permission_denied"),
    (exceptions.NotFound, "not_found"),
    (exceptions.MethodNotAllowed, "method_not_allowed"),
    (exceptions.NotAcceptable, "not_acceptable"),
    (exceptions.UnsupportedMediaType, "unsupported_media_type"),
    (exceptions.Throttled, "throttled"),
    (exceptions.ParseError, "parse_error"),
]


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "details": details or {}}


def _drf_code(exc: exceptions.APIException) -> str:
    for cls, code in DRF_CODES:
        if isinstance(exc, cls):
            return code
    return "error"


def _validation_details(detail: Any) -> dict[str, Any]:
    if isinstance(detail, dict):
        return {"fields": detail}
    return {"fields": {"non_field_errors": detail if isinstance(detail, list) else [detail]}}


def _from_drf(exc: exceptions.APIException) -> Response:
    code = _drf_code(exc)
    details: dict[str, Any] = {}
    if isinstance(exc, exceptions.ValidationError):
        message = "The request is invalid."
        details = _validation_details(exc.detail)
    else:
        message = str(exc.detail)
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        details = {"retry_after_seconds": int(exc.wait)}
    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    return Response(error_body(code, message, details), status=exc.status_code, headers=headers)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF ``EXCEPTION_HANDLER``: map Billow and DRF errors to the one shape."""
    if isinstance(exc, BillowError):
        set_rollback()
        return Response(
            error_body(exc.code, exc.message, jsonable_details(exc.details)), status=exc.http_status
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.APIException):
        set_rollback()
        return _from_drf(exc)
    return None


def jsonable_details(details: dict[str, Any]) -> dict[str, Any]:
    """Error details as JSON-safe values (dates, decimals and the like become text)."""
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    return dict(json.loads(json.dumps(details, cls=DjangoJSONEncoder, default=str)))


def not_found_response() -> Response:
    return Response(error_body("not_found", "Not found."), status=status.HTTP_404_NOT_FOUND)
