"""Scope and role checks per view.

Views declare ``scope`` (a family of ``scopes.SCOPES``, e.g. ``"services"``); safe methods need
``<family>:read`` and the others ``<family>:write`` unless ``scope_level`` forces one. Client
families also need the acting client user's ``ClientPermission``; ``staff`` needs a staff user and,
for writes, the Django model permissions in ``staff_perms``.
"""

from __future__ import annotations

from typing import Any

from rest_framework import permissions
from rest_framework.request import Request

from billow.accounts.selectors import get_client_user
from billow.api.models import ApiToken
from billow.api.scopes import CLIENT_FAMILIES, STAFF_FAMILY, grants


def needed_scope(view: Any, method: str) -> str:
    level = getattr(view, "scope_level", None) or (
        "read" if method in permissions.SAFE_METHODS else "write"
    )
    return f"{view.scope}:{level}"


def acting_client_user(request: Request) -> Any:
    """The ``ClientUser`` the request acts as (cached on the request), or None."""
    if not hasattr(request, "_billow_client_user"):
        request._billow_client_user = _client_user(request)
    return request._billow_client_user


def _client_user(request: Request) -> Any:
    """Token requests loaded the client user with the token (one query); sessions look it up."""
    if isinstance(request.auth, ApiToken):
        cached = getattr(request.user, "_state", None) and request.user._state.fields_cache
        if cached is not None and "client_user" in cached:
            cu = cached["client_user"]
            return cu if cu is not None and cu.is_active and request.user.is_active else None
    return get_client_user(request.user)


class ScopePermission(permissions.BasePermission):
    """Authenticated, the token has the scope, and the user holds the role it needs."""

    message = "Your token or user may not do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        needed = needed_scope(view, request.method or "GET")
        if isinstance(request.auth, ApiToken) and not grants(request.auth.scopes, needed):
            self.message = f"The token lacks the scope {needed}."
            return False
        family = view.scope
        if family == STAFF_FAMILY:
            return self._staff(request, view)
        if family in CLIENT_FAMILIES:
            return self._client(request, CLIENT_FAMILIES[family])
        return False

    def _staff(self, request: Request, view: Any) -> bool:
        if not request.user.is_staff:
            self.message = "Staff only."
            return False
        perms = getattr(view, "staff_perms", {}).get(request.method, ())
        return bool(request.user.has_perms(perms))

    def _client(self, request: Request, perm: str | None) -> bool:
        client_user = acting_client_user(request)
        if client_user is None:
            self.message = "This user acts for no client."
            return False
        if perm is not None and not client_user.has_permission(perm):
            self.message = f"The client user lacks the permission {perm!r}."
            return False
        return True


class SessionOnly(permissions.BasePermission):
    """Token management needs a session: a token can never mint or list tokens."""

    message = "Manage API tokens from a signed-in session."

    def has_permission(self, request: Request, view: Any) -> bool:
        return request.auth is None
