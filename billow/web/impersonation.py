"""Log in as a client (issue 13.2). Staff keep their own login; the session remembers which
client they act for, and the client area then acts as that client's owner, with the staff
member as the actor of everything done there. A banner on every client-area page says so and
has the "leave" button back to the admin's client page. The client's password, email and MFA
settings (the profile page and allauth's account pages) are refused while impersonating.

Who may: staff with the ``web.impersonate_client`` permission (superusers have it); every
start and end is an ``AccountEvent`` with the staff member as actor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from billow.accounts.impersonation import end_impersonation, start_impersonation
from billow.accounts.models import Client
from billow.core.actors import Actor
from billow.core.errors import BillowError
from billow.core.journal import client_ip

SESSION_KEY = "billow_impersonation"
PERMISSION = "web.impersonate_client"


def may_impersonate(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_staff and user.has_perm(PERMISSION))


def impersonated_client_id(request: HttpRequest) -> int | None:
    """The client the staff member of this request acts for, if any (checked each request:
    the permission may have been taken away meanwhile)."""
    data = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    if not data:
        return None
    user = request.user
    if not may_impersonate(user) or data.get("staff_id") != user.pk:
        return None
    return int(data["client_id"])


def client_page_url(client_id: int) -> str:
    return reverse("admin:accounts_client_overview", args=[client_id])


def login_as_client(request: HttpRequest, client_id: int) -> HttpResponse:
    """Admin view (POST): start acting as the client and open its dashboard."""
    if request.method != "POST":
        return HttpResponse(status=405)
    if not may_impersonate(request.user):
        return HttpResponse(_("You may not log in as a client."), status=403)
    client = get_object_or_404(Client, pk=client_id)
    try:
        start_impersonation(
            client=client,
            actor=Actor.staff(request.user),
            ip=client_ip(request.META),
        )
    except BillowError as exc:
        messages.error(request, f"{exc} ({exc.code})")
        return redirect(client_page_url(client.pk))
    request.session[SESSION_KEY] = {"client_id": client.pk, "staff_id": request.user.pk}
    return redirect("web:dashboard")


@login_required
@require_POST
def leave(request: HttpRequest) -> HttpResponse:
    """The banner's "leave" button: stop acting as the client, back to its admin page."""
    data = request.session.pop(SESSION_KEY, None)
    if not data:
        return redirect("web:dashboard")
    client = Client.objects.filter(pk=data["client_id"]).first()
    if client is None:
        return redirect("admin:index")
    end_impersonation(
        client=client,
        actor=Actor.staff(request.user),
        ip=client_ip(request.META),
    )
    return redirect(client_page_url(client.pk))


def _refused_while_impersonating(request: HttpRequest) -> bool:
    """The client's password, email and MFA pages (allauth's, except logout) and profile."""
    path = request.path
    if path == reverse("web:profile"):
        return True
    return path.startswith("/accounts/") and path != reverse("account_logout")


class ImpersonationGuardMiddleware:
    """Refuses the client's security pages while staff act as the client (403)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if impersonated_client_id(request) is not None and _refused_while_impersonating(request):
            from billow.web.access import forbidden

            why = _("Staff logged in as a client cannot see or change its passwords or MFA.")
            return forbidden(request, why)
        return self.get_response(request)


def banner_context(request: HttpRequest) -> dict[str, Any]:
    client_id = impersonated_client_id(request)
    if client_id is None or request.path.startswith("/admin/"):
        return {}
    client = Client.objects.filter(pk=client_id).only("id", "name").first()
    return {"impersonated_client": client} if client is not None else {}
