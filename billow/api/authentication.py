"""DRF authentication: ``Authorization: Bearer <token>`` and the session (CSRF enforced).

A token request carries ``request.auth`` = the ``ApiToken``; a session request has
``request.auth`` None and acts with all scopes its user may have.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from billow.api.actions import record_token_use
from billow.api.selectors import get_active_token
from billow.usage.selectors import get_active_ingest_token


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """Personal API tokens. An unknown, revoked or expired token is a 401."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Malformed Authorization header."))
        try:
            raw = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("Malformed token.")) from None
        token = get_active_token(raw)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid, expired or revoked token."))
        record_token_use(token=token)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class SessionAuthentication(authentication.SessionAuthentication):
    """Django's session; unsafe methods need the CSRF token (DRF enforces it)."""


class ModuleInstancePrincipal:
    """Who sends usage with an ingest token: a processing module instance, not a user."""

    is_authenticated = True
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, module_instance_id: int, name: str) -> None:
        self.module_instance_id = module_instance_id
        self.pk = f"module-instance-{module_instance_id}"  # the throttle's identity
        self.name = name

    def get_username(self) -> str:
        return self.name

    def has_perms(self, perms: Any) -> bool:
        return False


class IngestTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer bmi_...``: a module instance's usage ingest token (only the usage
    records endpoint takes it); other bearer tokens fall through to the next class."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = authentication.get_authorization_header(request).split()
        if len(header) != 2 or header[0].lower() != b"bearer" or not header[1].startswith(b"bmi_"):
            return None
        token = get_active_ingest_token(header[1].decode("ascii", "replace"))
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked ingest token."))
        principal = ModuleInstancePrincipal(token.module_instance_id, str(token.module_instance))
        return principal, token

    def authenticate_header(self, request: Request) -> str:
        return "Bearer"
