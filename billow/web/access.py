"""Who may see a client-area page: an enabled client user, with a ``ClientPermission`` when the
page needs one. Anonymous users go to the login page; anyone else gets 403. Objects are always
looked up within ``request.client`` so another client's id is a 404, never a leak."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from billow.accounts.impersonation import get_impersonated_user
from billow.accounts.models import Client, ClientUser
from billow.accounts.selectors import get_client_user
from billow.core.actors import Actor
from billow.core.errors import BillowError
from billow.web.impersonation import impersonated_client_id

View = Callable[..., HttpResponseBase]


def client_view(perm: str | None = None) -> Callable[[View], View]:
    """Decorate a view: sets ``request.client_user``, ``request.client`` and ``request.actor``."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            acting_for = impersonated_client_id(request)
            if acting_for is not None:
                return _as_client(request, acting_for, perm, view, *args, **kwargs)
            client_user = get_client_user(request.user)
            if client_user is None:
                if request.user.is_staff and request.path == reverse("web:dashboard"):
                    return redirect("admin:index")  # staff who open the site land on the admin
                why = _("This login does not act for any client account.")
                return forbidden(request, why)
            if perm is not None and not client_user.has_permission(perm):
                return forbidden(request, _("You do not have the permission for this page."))
            request.client_user = client_user  # type: ignore[attr-defined]
            request.client = client_user.client  # type: ignore[attr-defined]
            request.actor = Actor.client_user(request.user)  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def _as_client(
    request: HttpRequest, client_id: int, perm: str | None, view: View, *args: Any, **kwargs: Any
) -> HttpResponseBase:
    """Staff logged in as a client: the client's owner's view, with the staff member as the
    actor of whatever they do (billow.web.impersonation)."""
    try:
        client_user = get_impersonated_user(client_id)
    except BillowError as exc:
        return forbidden(request, exc.message)
    if perm is not None and not client_user.has_permission(perm):
        return forbidden(request, _("You do not have the permission for this page."))
    request.client_user = client_user  # type: ignore[attr-defined]
    request.client = client_user.client  # type: ignore[attr-defined]
    request.actor = Actor.staff(request.user)  # type: ignore[attr-defined]
    return view(request, *args, **kwargs)


def forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "web/forbidden.html", {"message": message}, status=403)


def client_of(request: HttpRequest) -> Client:
    """The client the request acts for (set by :func:`client_view`)."""
    client: Client = request.client  # type: ignore[attr-defined]
    return client


def client_user_of(request: HttpRequest) -> ClientUser:
    client_user: ClientUser = request.client_user  # type: ignore[attr-defined]
    return client_user


def actor_of(request: HttpRequest) -> Actor:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    return actor
