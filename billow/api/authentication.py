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
