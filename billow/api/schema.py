"""OpenAPI generation: the error shape on every operation, the ``Idempotency-Key`` header on
idempotent POSTs, and security schemes for tokens and sessions."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as BaseAutoSchema

from billow.api.idempotency import HEADER, KEY_PATTERN

ERROR_SCHEMA = {
    "type": "object",
    "required": ["code", "message", "details"],
    "properties": {
        "code": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
        "message": {"type": "string"},
        "details": {"type": "object"},
    },
}
ERROR_STATUSES = {
    "400": "Invalid request or business refusal",
    "401": "Not authenticated",
    "403": "Missing scope or permission",
    "404": "Not found (or not yours)",
    "405": "Method not allowed",
    "406": "Not acceptable",
    "409": "Conflict (state or idempotency key)",
    "415": "Unsupported media type (send JSON)",
    "429": "Throttled",
}


class AutoSchema(BaseAutoSchema):
    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        ref = {"$ref": "#/components/schemas/Error"}
        for status, text in ERROR_STATUSES.items():
            operation["responses"].setdefault(
                status, {"description": text, "content": {"application/json": {"schema": ref}}}
            )
        handler = getattr(self.view, self.method.lower(), None)
        if getattr(handler, "idempotent", False):
            operation.setdefault("parameters", []).append(
                {
                    "in": "header",
                    "name": HEADER,
                    "required": True,
                    "description": "A unique key per intended operation; replays return the "
                    "stored response.",
                    "schema": {"type": "string", "pattern": KEY_PATTERN},
                }
            )
        return operation


def add_error_component(result: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the shared ``Error`` component."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    return result


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "billow.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "http", "scheme": "bearer", "bearerFormat": "blw_<prefix>_<secret>"}


class IngestTokenScheme(OpenApiAuthenticationExtension):
    target_class = "billow.api.authentication.IngestTokenAuthentication"
    name = "ingestTokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "http", "scheme": "bearer", "bearerFormat": "bmi_<secret>"}


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "billow.api.authentication.SessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}


def only_v1(endpoints: list[tuple[Any, ...]], **_kwargs: Any) -> list[tuple[Any, ...]]:
    """drf-spectacular preprocessing hook: document the v1 API only (not the schema view)."""
    return [e for e in endpoints if e[0].startswith("/api/v1/")]
